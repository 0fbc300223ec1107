export {
  Lifecycle,
  run,
  type Closable,
  type LifecycleOptions,
  type ProcessPort,
  type ResourceKind,
  type RunOptions,
} from './lifecycle';
export {
  openDatabase,
  openPostgresStore,
  openStore,
  type DatabaseOptions,
  type OpenedStore,
  type PgliteDatabaseOptions,
  type PostgresDatabaseOptions,
  type PostgresStoreOptions,
  type StoreOptions,
} from './store';
export { openBus, openNatsBus, type BusOptions, type NatsOptions } from './bus';
