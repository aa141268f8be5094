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
     * Adds new AND WHERE with conditions for the given ids.
     */
    andWhereInIds(ids: any[]): this {
        return this.andWhere(ids);
    }
}
