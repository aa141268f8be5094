import {PostgresOptions} from "../driver/postgres/PostgresOptions";
import {SqliteOptions} from "../driver/sqlite/SqliteOptions";
import {BrowserOptions} from "../driver/browser/BrowserOptions";
import {ExpoOptions} from "../driver/expo/ExpoOptions";

/**
 * The options of one data source: those of the driver it uses.
 */
export type DataSourceOptions =
    PostgresOptions|
    SqliteOptions|
    BrowserOptions|
    ExpoOptions;