export function getRepository(target: string) {
    return manager().getRepository(target);
}

export function getTreeRepository(target: string) {
    return manager().getTreeRepository(target);
}