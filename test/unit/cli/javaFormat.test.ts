/** Alluxio's number formatting (FormatUtils.getSizeFromBytes, `%.2f`, Jackson doubles), exactly. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getSizeFromBytes, jacksonDouble, javaFixed2 } from '../../../cli/javaFormat.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PiB = 1024 * TiB;

describe('getSizeFromBytes', () => {
  const table: [number, string][] = [
    [0, '0B'],
    [1, '1B'],
    [5120, '5120B'], // up to 5 × 1024 stays in bytes
    [5121, '5.00KB'],
    [6 * KiB, '6.00KB'],
    [5120 * KiB, '5120.00KB'],
    [5120 * KiB + 1, '5.00MB'],
    [125 * MiB, '125.00MB'],
    [1600 * MiB, '1600.00MB'],
    [6400 * MiB, '6.25GB'],
    [671088640, '640.00MB'],
    [6710886400, '6.25GB'],
    [5120 * GiB, '5120.00GB'],
    [6 * TiB, '6.00TB'],
    [6 * PiB, '6.00PB'],
    [10_000 * PiB, '10000.00PB'], // no unit past PB
    [2570035, '2509.80KB'],
    [1536 * KiB + 5, '1536.00KB'],
  ];
  for (const [bytes, text] of table) {
    it(`${bytes} → ${text}`, () => assert.equal(getSizeFromBytes(bytes), text));
  }
});

describe("javaFixed2 (Java's %.2f)", () => {
  const table: [number, string][] = [
    [0, '0.00'], [1, '1.00'], [0.125, '0.13'], [1.005, '1.01'], [2.675, '2.68'], [9.995, '10.00'],
    [99.999, '100.00'], [33.333333333333336, '33.33'], [-1.5, '-1.50'], [-0.001, '0.00'], [1e-7, '0.00'], [123456.784, '123456.78'],
  ];
  for (const [value, text] of table) {
    it(`${value} → ${text}`, () => assert.equal(javaFixed2(value), text));
  }
});

describe("jacksonDouble (Java's Double.toString)", () => {
  const table: [number, string][] = [
    [0, '0.0'], [100, '100.0'], [12.5, '12.5'], [33.333333333333336, '33.333333333333336'],
    [0.001, '0.001'], [1e-4, '1.0E-4'], [1.5e-5, '1.5E-5'], [1e7, '1.0E7'], [12345678.9, '1.23456789E7'],
  ];
  for (const [value, text] of table) {
    it(`${value} → ${text}`, () => assert.equal(jacksonDouble(value), text));
  }
});
