export class DocumentDriver {

    connect(): Promise<void> {
        return new Promise<void>((ok, fail) => {
            this.client.connect(this.buildUrl(), {
                replicaSet: this.options.replicaSet,
                readConcern: this.options.readConcern,
                logger: this.options.logger,
                authMechanism: this.options.authMechanism
            }, (err: any, connection: any) => {
                if (err) return fail(err);

                this.queryRunner = new DocumentQueryRunner(this.dataSource, connection);
                ok();
            });
        });
    }
}
