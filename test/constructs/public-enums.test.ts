import { BlueGreenErrorName as WireBlueGreenErrorName, BlueGreenEvent as WireBlueGreenEvent } from '../../lambda/database/blue-green-contract';
import { MigrationErrorName as WireMigrationErrorName } from '../../lambda/database/errors';
import { FlagRolloutErrorName as WireFlagRolloutErrorName, FlagRolloutEvent as WireFlagRolloutEvent } from '../../lambda/flag-rollout/flag-rollout-contract';
import { SourceKind } from '../../lambda/database/blue-green-contract';
import { MigrationEvent as WireMigrationEvent, TlsMode } from '../../lambda/database/migration-contract';
import { ReleasePlanErrorName as WireReleasePlanErrorName, ReleasePlanEvent as WireReleasePlanEvent } from '../../lambda/release/release-plan-contract';
import {
  COLORS, ErrorName as WireErrorName, EVENT_SOURCE, InconclusiveAction as WireInconclusiveAction, RolloutEvent as WireRolloutEvent,
} from '../../lambda/shared/contracts';
import {
  BlueGreenErrorName, BlueGreenEvent, Color, DatabaseSourceKind, DatabaseTls, ErrorName, FlagRolloutErrorName, FlagRolloutEvent, InconclusiveAction,
  MigrationErrorName, MigrationEvent, ReleasePlanErrorName, ReleasePlanEvent,
  RolloutEvent, SwitchoverApproval, ZeroDowntimeEventSource,
} from '../../lib';

/**
 * The public enums are jsii's copies of the handlers' constants (lambda/ keeps the single source): a name added to
 * a contract and not to its enum, or spelt differently, fails here instead of reaching users as a silent mismatch.
 */
describe('the public event and error names equal the handlers\' contracts', () => {
  test.each([
    ['RolloutEvent', RolloutEvent, WireRolloutEvent],
    ['ErrorName', ErrorName, WireErrorName],
    ['MigrationEvent', MigrationEvent, WireMigrationEvent],
    ['MigrationErrorName', MigrationErrorName, WireMigrationErrorName],
    ['BlueGreenEvent', BlueGreenEvent, WireBlueGreenEvent],
    ['BlueGreenErrorName', BlueGreenErrorName, WireBlueGreenErrorName],
    ['FlagRolloutEvent', FlagRolloutEvent, WireFlagRolloutEvent],
    ['FlagRolloutErrorName', FlagRolloutErrorName, WireFlagRolloutErrorName],
    ['ReleasePlanEvent', ReleasePlanEvent, WireReleasePlanEvent],
    ['ReleasePlanErrorName', ReleasePlanErrorName, WireReleasePlanErrorName],
  ])('%s has every member of the contract, with the same value', (_name, publicEnum, contract) => {
    expect({ ...publicEnum }).toEqual({ ...contract });
  });

  test('the event source is the one the handlers and state machines put', () => {
    expect(ZeroDowntimeEventSource.NAME).toBe(EVENT_SOURCE);
  });
});

describe('the public enums spell what the handlers parse', () => {
  test('Color is the contract\'s two colors', () => {
    expect(Object.values(Color)).toEqual([...COLORS]);
  });

  test('InconclusiveAction, DatabaseTls and DatabaseSourceKind hold exactly the contracts\' strings', () => {
    // The contracts declare these as string unions (types only). Each map below must name every member of the union
    // (`npm test` type-checks first: a value added to a contract and not here fails to compile), and each enum must
    // hold exactly those values.
    const inconclusive: Record<WireInconclusiveAction, InconclusiveAction> = {
      ROLLBACK: InconclusiveAction.ROLLBACK, PROCEED: InconclusiveAction.PROCEED, PAUSE: InconclusiveAction.PAUSE,
    };
    const tls: Record<TlsMode, DatabaseTls> = { 'verify-full': DatabaseTls.VERIFY_FULL, 'require': DatabaseTls.REQUIRE, 'disable': DatabaseTls.DISABLE };
    const kinds: Record<SourceKind, DatabaseSourceKind> = { instance: DatabaseSourceKind.INSTANCE, cluster: DatabaseSourceKind.CLUSTER };
    for (const [wire, publicEnum] of [[inconclusive, InconclusiveAction], [tls, DatabaseTls], [kinds, DatabaseSourceKind]] as const) {
      for (const [value, member] of Object.entries(wire)) expect(member).toBe(value);
      expect(Object.values(publicEnum).sort()).toEqual(Object.keys(wire).sort());
    }
    expect(Object.values(SwitchoverApproval).sort()).toEqual(['manual', 'none']);
  });
});
