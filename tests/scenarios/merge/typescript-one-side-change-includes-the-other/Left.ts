export class Driver {
    prepare(column: Column, value: any): any {
        if (column.type === "date") {
            return Dates.toDateString(value);

        } else if (column.type === "datetime") {
            return Dates.toLocalString(value);

        } else if (column.type === "json") {
            return JSON.stringify(value);
        }
        return value;
    }
}
