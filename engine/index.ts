/**
 * The engine's public face: the only module api/ (and the facades, the CLI) may import from
 * engine/ (enforced by eslint.config.js). Start a process with startEngine; everything a route needs
 * is reached through the Engine it returns or the types and helpers re-exported here.
 */
export { startEngine, type Engine } from './startEngine.ts';
export { VERSION } from './version.ts';
export type { JobService, Caller, By, UserRole, ListQuery, SubmitRequest, LiveMessage, DeliveryEntry, VirtualClusterStatus, OverviewView, ActivityView, JobView, ProgressView, TaskView, PlanView, PlanOptions, SubmissionPlan, WorkerView, JobExplanation, AsOf, AsOfInfo } from './serviceTypes.ts';
export { parseAsOf, MAX_AS_OF_CHARS } from './jobservice/asOf.ts';
export { EXPLAIN_REASONS } from './explain/explainJob.ts';
export { SYSTEM_CALLER } from './serviceTypes.ts';
export { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, MAX_LABELS, parseLabelSelector } from './jobservice/labels.ts';
export { MAX_PARALLELISM } from './jobservice/submission.ts';
export { createIdentity, USER_NAME_RE, type Identity } from './auth/identity.ts';
export { createMemoryControlStore, type ControlStore } from './controlstore/controlStore.ts';
export { createDocumentStore, MAX_DOCUMENT_BYTES, type DocumentStore } from './documents/documentStore.ts';
export { createMemoryTaskLogs, type MemoryTaskLogsOptions } from './tasklogs/memoryTaskLogs.ts';
export type { TaskLogs, TaskLogWriter, LogChunk, LogEnd, LogStream, LogReadOptions, LogReadResult, LogFollowOptions } from './tasklogs/taskLogs.ts';
export { TASK_ID_RE } from './subjects.ts';
export { normalizeTerasliceSpec, TERASLICE_SPEC_SCHEMA, type TerasliceSpec } from './jobtypes/teraslice/spec.ts';
export { unplannedWork } from './jobtypes/teraslice/slicing.ts';
export type { FileSlice, GeneratorSlice, PlanCursor as TeraslicePlanCursor } from './jobtypes/teraslice/payloads.ts';
export { AppError, ERROR_CODES, isAppError, type ErrorCode } from './errors.ts';
export { resolveConfig, readEnv, parseFlags, ConfigError, DEFAULTS, FACADE_AUTH_MODES, isLoopbackHost, type Config, type FacadeAuthMode } from './config.ts';
export { IGNORED_REASONS, resolveStartupConfig, type StartupConfig } from './alluxioSiteProperties.ts';
export { virtualClusterDefs } from './auth/virtualClusters.ts';
export { effectiveClusters, type VirtualClusterDef } from './quota/shares.ts';
export { createWebhookService, type WebhookService, type WebhookServiceOptions } from './hooks/webhookService.ts';
export type { CreateWebhookInput, WebhookDef, WebhookSummary } from './hooks/webhookStore.ts';
export { liveMessageFor } from './hooks/deliveryView.ts';
export { createLogger, silentLogger, levelControl, REDACT_PATHS, type Logger, type LevelControl } from './log.ts';
export { systemClock, type Clock } from './clock.ts';

export { BINARY_NAME_RE, checkBinaryName, createMemoryBinaryStore, type BinaryInfo, type BinaryStore } from './binaries/index.ts';
export { MAX_COMMAND_BYTES, MAX_COMMANDS, MAX_INSTANCES, MAX_ROLES, MAX_SOURCE_CHARS, ROLE_NAME_RE, type ExecRole, type ExecSpec } from './jobtypes/exec/spec.ts';
export { EXEC_SEALED_NAMESPACE, type ExecSealedDocument } from './jobtypes/exec/sealed.ts';
export { MIN_REDACT_CHARS, REDACTED } from './jobtypes/exec/redactor.ts';
export { BINARY_TYPES, baseContentType, findRuntimes, runtimeMinimumMemoryMb, type Runtime, type RuntimeCommands, type ScriptSpec } from './jobtypes/script/index.ts';
export { sparkCallbackBody, sparkErrorData, sparkOutcome, SPARK_KILLED_CLASS, type SparkErrorData } from './hooks/callbackFormats.ts';
