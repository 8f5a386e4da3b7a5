/** The operation registry: one implementation per `op` kind. */
import { Operation, OperationKind } from '../types';
import { OperationImpl } from './operation';
import { addColumn, changeColumnType, dropColumn, renameColumn } from './columns';
import { addCheck, addForeignKey, addIndex, addUnique } from './constraints';
import { moveColumns } from './move-columns';
import { rawSql } from './raw-sql';
import { createTable, dropTable } from './tables';

const REGISTRY: { [K in OperationKind]: OperationImpl<Extract<Operation, { op: K }>> } = {
  createTable, addColumn, renameColumn, changeColumnType, addIndex, addForeignKey, addCheck, addUnique,
  moveColumns, dropColumn, dropTable, sql: rawSql,
};

export function implementationOf<O extends Operation>(op: O): OperationImpl<O> {
  return REGISTRY[op.op] as unknown as OperationImpl<O>;
}

export * from './operation';
