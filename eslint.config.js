import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** `no-restricted-imports` pattern: @nats-io/* outside engine/nats/ and the JetStream adapters. */
const NATS_ONLY_IN_ADAPTERS = {
  group: ['@nats-io/*'],
  message: 'NATS is used only in engine/nats/ and the JetStream adapters (eventlog, liveness, taskqueue); go through the engine\'s interfaces.',
};

/** `no-restricted-imports` pattern: any engine module but engine/index.ts (types included). */
const ENGINE_ONLY_THROUGH_INDEX = {
  group: ['**/engine/**', '!**/engine/index.ts'],
  message: 'api/ reaches the engine only through engine/index.ts; export what you need there.',
};

export default tseslint.config(
  { ignores: ['node_modules/', '.cache/', 'data/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'inject a Random instead' }],
    },
  },
  // NATS stays behind the adapters: engine/nats/ and the JetStream implementations of the engine's
  // interfaces (the event log's is split into engine/eventlog/jetStream*.ts). Tests and benches
  // start real servers; the example subscriber is an outside client.
  {
    files: ['**/*.ts'],
    ignores: [
      'engine/nats/**',
      'engine/eventlog/jetStream*.ts',
      'engine/liveness/kvLiveness.ts',
      'engine/taskqueue/jetStreamTaskQueue.ts',
      'test/**',
      'bench/**',
      'scripts/example-subscriber.ts',
    ],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NATS_ONLY_IN_ADAPTERS] }],
    },
  },
  // The API (and the facades under api/compat/) sees the engine only through its public face.
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [ENGINE_ONLY_THROUGH_INDEX, NATS_ONLY_IN_ADAPTERS] }],
    },
  },
  // The command line is an HTTP client of the native API: nothing from the server's layers.
  {
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/engine/**', '**/api/**', '**/actors/**', '@nats-io/*', 'fastify'], message: 'cli/ talks to the service over HTTP only (docs/api.md); declare what it reads in cli/apiTypes.ts.' },
        ],
      }],
    },
  },
  // The dashboard runs in the browser and talks to the service over HTTP only (api/dashboard.ts serves it).
  {
    files: ['dashboard/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/engine/**', '**/api/**', '**/actors/**', '**/cli/**', '@nats-io/*', 'fastify', 'node:*'], message: 'dashboard/ is a browser client of the native API (docs/api.md); declare what it reads in dashboard/src/client/types.ts.' },
        ],
      }],
    },
  },
  // actors/ is pure: no I/O, no logger, and nothing from the layers built on it.
  {
    files: ['actors/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['@nats-io/*', 'node:*', 'fastify', 'pino'], message: 'actors/ is pure: no I/O, no logger; the engine passes in what a decision needs.' },
          { group: ['**/engine/**', '**/api/**'], message: 'actors/ is pure: engine/ and api/ build on it, never the other way round.' },
        ],
      }],
    },
  },
);
