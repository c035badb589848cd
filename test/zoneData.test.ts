/**
 * The zone data a process decides with (src/zoneData.ts): how releases are ordered, and when a
 * worker warns at start. Unit tests: pure code and this process's own ICU.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareZoneData, NEWEST_TESTED_ZONE_DATA, zoneDataBanner, zoneDataVersion } from '../src/zoneData';

describe('zone data', () => {
  test('IANA releases are ordered by year, then letter, "2026z" before "2026za"', () => {
    const ordered = ['2025b', '2026a', '2026e', '2026f', '2026z', '2026za', '2027a'];
    for (const [index, release] of ordered.entries()) {
      for (const [other, later] of ordered.entries()) assert.equal(Math.sign(compareZoneData(release, later)!), Math.sign(index - other), `${release} vs ${later}`);
    }
    assert.equal(compareZoneData('unknown', '2026e'), undefined);
  });

  test('a worker on data older than the newest tested warns at start, naming both; the newest tested and later do not', () => {
    const old = zoneDataBanner('2025b', {});
    assert.match(old.line, /^zone data +IANA 2025b \(Node v\d+\.\d+\.\d+'s built-in ICU\)$/);
    assert.match(old.warning ?? '', new RegExp(`IANA time zone data 2025b, older than ${NEWEST_TESTED_ZONE_DATA}, the newest this project was tested with`));
    assert.match(zoneDataBanner('unknown', {}).warning ?? '', /older than/);
    assert.equal(zoneDataBanner(NEWEST_TESTED_ZONE_DATA, {}).warning, undefined);
    assert.equal(zoneDataBanner('2099a', { ICU_TIMEZONE_FILES_DIR: '/opt/tz' }).warning, undefined);
    assert.match(zoneDataBanner('2099a', { ICU_TIMEZONE_FILES_DIR: '/opt/tz' }).line, /\(ICU_TIMEZONE_FILES_DIR=\/opt\/tz\)/);
  });

  test('the Node that runs the tests has at least the newest tested zone data (raise NEWEST_TESTED_ZONE_DATA with it, never past it)', () => {
    assert.equal(zoneDataVersion(), process.versions.tz);
    assert.ok(compareZoneData(zoneDataVersion(), NEWEST_TESTED_ZONE_DATA)! >= 0, `${zoneDataVersion()} < ${NEWEST_TESTED_ZONE_DATA}`);
    assert.equal(zoneDataBanner().warning, undefined);
  });
});
