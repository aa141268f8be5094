export function getRepository(target: string) {
    return manager().getRepository(target);
}

export function getTreeRepository(target: string) {
    return manager().getTreeRepository(target);
}

export function createQueryBuilder(name: string = "default") {
    return getConnection(name).createQueryBuilder();
}