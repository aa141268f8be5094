import {PostgresOptions} from "../driver/postgres/PostgresOptions";
import {SqliteOptions} from "../driver/sqlite/SqliteOptions";
import {BrowserOptions} from "../driver/browser/BrowserOptions";
import {NativeOptions} from "../driver/native/NativeOptions";
import {ExpoOptions} from "../driver/expo/ExpoOptions";

/**
 * The options of one data source: those of the driver it uses.
 */
export type DataSourceOptions =
    PostgresOptions|
    NativeOptions|
    SqliteOptions|
    BrowserOptions|
    ExpoOptions;