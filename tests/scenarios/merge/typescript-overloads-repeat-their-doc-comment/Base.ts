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
}
