/** The operation registry: one implementation per `op` kind. */
import { Operation, OperationKind } from '../types';
import { OperationImpl } from './operation';
import { addColumn, changeColumnType, dropColumn, renameColumn } from './columns';
import { addCheck, addForeignKey, addIndex, addUnique, dropConstraint, dropIndex, renameConstraint } from './constraints';
import { alterColumn } from './alter-column';
import { createConstraint } from './create-constraint';
import { moveColumns } from './move-columns';
import { rawSql } from './raw-sql';
import { createTable, dropTable, renameTable, setReplicaIdentity } from './tables';

const REGISTRY: { [K in OperationKind]: OperationImpl<Extract<Operation, { op: K }>> } = {
  createTable, addColumn, renameColumn, changeColumnType, alterColumn, createConstraint, renameTable, dropIndex, renameConstraint, dropConstraint,
  setReplicaIdentity, addIndex, addForeignKey, addCheck, addUnique, moveColumns, dropColumn, dropTable, sql: rawSql,
};

export function implementationOf<O extends Operation>(op: O): OperationImpl<O> {
  return REGISTRY[op.op] as unknown as OperationImpl<O>;
}

export * from './operation';
