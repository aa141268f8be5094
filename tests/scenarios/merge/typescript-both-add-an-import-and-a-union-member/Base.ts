import {PostgresOptions} from "../driver/postgres/PostgresOptions";
import {SqliteOptions} from "../driver/sqlite/SqliteOptions";
import {BrowserOptions} from "../driver/browser/BrowserOptions";

/**
 * The options of one data source: those of the driver it uses.
 */
export type DataSourceOptions =
    PostgresOptions|
    SqliteOptions|
    BrowserOptions;