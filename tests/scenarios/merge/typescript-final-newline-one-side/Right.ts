export function getRepository(target: string, name: string = "default") {
    return manager(name).getRepository(target);
}

export function getTreeRepository(target: string, name: string = "default") {
    return manager(name).getTreeRepository(target);
}
