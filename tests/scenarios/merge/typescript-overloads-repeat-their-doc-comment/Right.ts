export class UpdateQueryBuilder {
    /**
     * Sets ORDER BY condition in the query builder.
     */
    orderBy(sort: string): this;

    /**
     * Sets ORDER BY condition in the query builder.
     */
    orderBy(sort?: string): this {
        this.sort = sort;
        return this;
    }

    /**
     * Indicates if entity must be updated after update operation.
     */
    updateEntity(enabled: boolean): this {
        this.updated = enabled;
        return this;
    }
}
