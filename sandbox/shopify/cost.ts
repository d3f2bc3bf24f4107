/**
 * Shopify's calculated query cost, from the operation's AST and the schema.
 *
 * Rules (https://shopify.dev/docs/api/usage/limits#cost-calculation):
 * - scalar and enum fields cost 0, object fields cost 1;
 * - a connection costs 2 plus, per requested node, 1 plus the cost of the node's own selection:
 *   `products(first: 10) { nodes { id } }` costs 2 + 10 = 12;
 * - a mutation field costs 10, which covers the objects of its payload; connections inside the
 *   payload are still charged as connections;
 * - lists of objects that are not connections (userErrors, quantities) cost like one object:
 *   static analysis does not know their length.
 *
 * The requested cost uses `first`; the actual cost counts the nodes really returned. Fields
 * selected twice under one response key are merged first, as execution merges them.
 */
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLOutputType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** Cost of one mutation field (the payload's objects included). */
export const MUTATION_FIELD_COST = 10;
/** Fixed part of every connection's cost. */
export const CONNECTION_BASE_COST = 2;
/** Shopify rejects a single query whose requested cost exceeds this. */
export const MAX_SINGLE_QUERY_COST = 1000;

export interface CostInput {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

/** A connection type by Shopify's naming convention: `XConnection` with edges/nodes. */
function isConnectionType(type: GraphQLObjectType): boolean {
  return type.name.endsWith('Connection') && 'nodes' in type.getFields() && 'edges' in type.getFields();
}

/** Requested cost walks the query alone; actual cost walks it along the result data. */
type Walk = { mode: 'requested' } | { mode: 'actual'; value: unknown };

class CostCalculator {
  constructor(private readonly input: CostInput) {}

  /** Groups the selections (through fragments, honouring @skip/@include) by response key. */
  private collectFields(selectionSet: SelectionSetNode, into = new Map<string, FieldNode[]>()): Map<string, FieldNode[]> {
    for (const selection of selectionSet.selections) {
      if (!this.isIncluded(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const existing = into.get(key);
        if (existing) existing.push(selection);
        else into.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        this.collectFields(selection.selectionSet, into);
      } else {
        const fragment = this.input.fragments[selection.name.value];
        if (fragment) this.collectFields(fragment.selectionSet, into);
      }
    }
    return into;
  }

  private isIncluded(node: Parameters<typeof getDirectiveValues>[1]): boolean {
    const skip = getDirectiveValues(GraphQLSkipDirective, node, this.input.variables);
    if (skip?.['if'] === true) return false;
    const include = getDirectiveValues(GraphQLIncludeDirective, node, this.input.variables);
    return include?.['if'] !== false;
  }

  /** Sub-selections of all nodes merged under one response key. */
  private mergedSelection(fieldNodes: readonly FieldNode[]): SelectionSetNode {
    return {
      kind: Kind.SELECTION_SET,
      selections: fieldNodes.flatMap((node) => node.selectionSet?.selections ?? []),
    };
  }

  /**
   * Cost of a selection on `parentType`. `objectsAreFree` is true inside a mutation payload,
   * whose objects the mutation's flat cost already covers.
   */
  private selectionCost(parentType: GraphQLObjectType, selectionSet: SelectionSetNode, walk: Walk, objectsAreFree: boolean): number {
    let total = 0;
    for (const [responseKey, fieldNodes] of this.collectFields(selectionSet)) {
      const first = fieldNodes[0]!;
      const fieldDef = parentType.getFields()[first.name.value];
      if (!fieldDef) continue; // __typename and other introspection fields are free
      const childWalk: Walk =
        walk.mode === 'requested'
          ? walk
          : { mode: 'actual', value: isRecord(walk.value) ? walk.value[responseKey] : undefined };
      total += this.fieldCost(fieldDef.type, fieldNodes, childWalk, objectsAreFree, () =>
        getArgumentValues(fieldDef, first, this.input.variables),
      );
    }
    return total;
  }

  private fieldCost(
    type: GraphQLOutputType,
    fieldNodes: readonly FieldNode[],
    walk: Walk,
    objectsAreFree: boolean,
    args: () => Record<string, unknown>,
  ): number {
    const namedType = getNamedType(type);
    if (isLeafType(namedType) || !isObjectType(namedType)) return 0;
    const selection = this.mergedSelection(fieldNodes);
    if (isConnectionType(namedType)) return this.connectionCost(namedType, selection, walk, args);
    const ownCost = objectsAreFree ? 0 : 1;
    if (walk.mode === 'requested') return ownCost + this.selectionCost(namedType, selection, walk, objectsAreFree);
    const unwrapped = isNonNullType(type) ? type.ofType : type;
    // Lists of objects are priced as one object; the first element stands for all of them.
    const value = isListType(unwrapped) && Array.isArray(walk.value) ? walk.value[0] : walk.value;
    if (value === null || value === undefined) return ownCost;
    return ownCost + this.selectionCost(namedType, selection, { mode: 'actual', value }, objectsAreFree);
  }

  private connectionCost(
    connectionType: GraphQLObjectType,
    selection: SelectionSetNode,
    walk: Walk,
    args: () => Record<string, unknown>,
  ): number {
    const connectionFields = this.collectFields(selection);
    const nodeType = getNamedType(connectionType.getFields()['nodes']!.type) as GraphQLObjectType;
    // A node's selection can come through `nodes { ... }` and through `edges { node { ... } }`.
    const nodeSelections: { selection: SelectionSetNode; nodeAt: (connection: unknown, index: number) => unknown }[] = [];
    for (const [key, fieldNodes] of connectionFields) {
      const name = fieldNodes[0]!.name.value;
      if (name === 'nodes') {
        nodeSelections.push({ selection: this.mergedSelection(fieldNodes), nodeAt: (c, i) => listAt(c, key, i) });
      } else if (name === 'edges') {
        for (const [edgeKey, edgeFieldNodes] of this.collectFields(this.mergedSelection(fieldNodes))) {
          if (edgeFieldNodes[0]!.name.value !== 'node') continue;
          nodeSelections.push({
            selection: this.mergedSelection(edgeFieldNodes),
            nodeAt: (c, i) => {
              const edge = listAt(c, key, i);
              return isRecord(edge) ? edge[edgeKey] : undefined;
            },
          });
        }
      }
    }
    // Connection nodes are priced as objects even inside a mutation payload (objectsAreFree = false).
    if (walk.mode === 'requested') {
      const first = args()['first'];
      const pageSize = typeof first === 'number' && first > 0 ? first : 0;
      const nodeCost = nodeSelections.reduce((sum, { selection: nodeSelection }) => sum + this.selectionCost(nodeType, nodeSelection, walk, false), 1);
      return CONNECTION_BASE_COST + pageSize * nodeCost;
    }
    const returned = returnedNodeCount(walk.value);
    let total = CONNECTION_BASE_COST;
    for (let index = 0; index < returned; index++) {
      total += 1;
      for (const { selection: nodeSelection, nodeAt } of nodeSelections) {
        const node = nodeAt(walk.value, index);
        if (node !== null && node !== undefined) total += this.selectionCost(nodeType, nodeSelection, { mode: 'actual', value: node }, false);
      }
    }
    return total;
  }

  operationCost(walk: Walk): number {
    const rootType =
      this.input.operation.operation === 'mutation' ? this.input.schema.getMutationType() : this.input.schema.getQueryType();
    if (!rootType) return 0;
    if (this.input.operation.operation !== 'mutation') {
      return this.selectionCost(rootType, this.input.operation.selectionSet, walk, false);
    }
    let total = 0;
    for (const [responseKey, fieldNodes] of this.collectFields(this.input.operation.selectionSet)) {
      const fieldDef = rootType.getFields()[fieldNodes[0]!.name.value];
      const payloadType = fieldDef ? getNamedType(fieldDef.type) : undefined;
      if (!payloadType || !isObjectType(payloadType)) continue;
      const payloadWalk: Walk =
        walk.mode === 'requested' ? walk : { mode: 'actual', value: isRecord(walk.value) ? walk.value[responseKey] : undefined };
      const payloadValue = payloadWalk.mode === 'actual' ? payloadWalk.value : undefined;
      const nested =
        payloadWalk.mode === 'actual' && (payloadValue === null || payloadValue === undefined)
          ? 0
          : this.selectionCost(payloadType, this.mergedSelection(fieldNodes), payloadWalk, true);
      total += MUTATION_FIELD_COST + nested;
    }
    return total;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listAt(connection: unknown, key: string, index: number): unknown {
  if (!isRecord(connection)) return undefined;
  const list = connection[key];
  return Array.isArray(list) ? list[index] : undefined;
}

/** How many nodes a connection value returned, whichever of edges/nodes was selected. */
function returnedNodeCount(connection: unknown): number {
  if (!isRecord(connection)) return 0;
  let count = 0;
  for (const value of Object.values(connection)) {
    if (Array.isArray(value)) count = Math.max(count, value.length);
  }
  return count;
}

/** Cost Shopify charges up front, before executing anything. */
export function requestedQueryCost(input: CostInput): number {
  return new CostCalculator(input).operationCost({ mode: 'requested' });
}

/** Cost after execution: connections count the nodes they returned. */
export function actualQueryCost(input: CostInput, data: unknown): number {
  return new CostCalculator(input).operationCost({ mode: 'actual', value: data });
}
