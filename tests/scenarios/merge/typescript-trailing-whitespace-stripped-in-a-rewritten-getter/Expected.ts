import {QueryBuilderUtils} from "./QueryBuilderUtils";
import {Alias} from "./Alias";
import {ObjectUtils} from "../util/ObjectUtils";

export class JoinAttribute {

    constructor(private expressionMap: ExpressionMap,
                joinAttribute?: JoinAttribute) {
        ObjectUtils.assign(this, joinAttribute || {});
    }

    relationCache: RelationMetadata|undefined;
    relationEvaluated: boolean = false;
    /**
     * Relation of the parent, when the join was made with the "post.category" syntax.
     */
    get relation(): RelationMetadata|undefined {
        if (!this.relationEvaluated) {
            const getValue = () => {
                if (!QueryBuilderUtils.isAliasProperty(this.entityOrProperty))
                    return undefined;

                const owner = this.expressionMap.findAliasByName(this.parentAlias!);
                const relation = owner.metadata.findRelationWithPropertyPath(this.relationPath!);

                if (relation) {
                    return relation;
                }

                throw new Error(`Relation ${this.relationPath} was not found in the entity.`);
            };
            this.relationCache = getValue();
            this.relationEvaluated = true;
        }
        return this.relationCache;
    }

}
