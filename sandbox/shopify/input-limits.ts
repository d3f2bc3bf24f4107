/**
 * Shopify's input array limit: no list in any argument may hold more than 250 items. Checked
 * before execution, so an oversized mutation applies nothing.
 */
import {
  getArgumentValues,
  GraphQLError,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';

/** Shopify's maximum number of items in any input array. */
export const MAX_INPUT_ARRAY_SIZE = 250;

interface OversizedArray {
  size: number;
  path: (string | number)[];
}

/**
 * The first array in `value` longer than the limit, depth first. `path` is where `value` sits; it
 * is extended in place while walking and copied only for the answer, since this walks every field
 * of every quantity of every mutation.
 */
function findOversized(value: unknown, path: (string | number)[]): OversizedArray | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    if (value.length > MAX_INPUT_ARRAY_SIZE) return { size: value.length, path: [...path] };
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (typeof item !== 'object' || item === null) continue;
      path.push(index);
      const found = findOversized(item, path);
      path.pop();
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const field: unknown = (value as Record<string, unknown>)[key];
    if (typeof field !== 'object' || field === null) continue;
    path.push(key);
    const found = findOversized(field, path);
    path.pop();
    if (found) return found;
  }
  return undefined;
}

/**
 * Returns Shopify's MAX_INPUT_SIZE_EXCEEDED error for the first oversized array in any field
 * argument of the operation or its fragments, or undefined when every array fits.
 * Expects a validated document and coerced variables.
 */
export function checkInputArraySizes(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): GraphQLError | undefined {
  let error: GraphQLError | undefined;
  for (const definition of [operation, ...Object.values(fragments)]) {
    const typeInfo = new TypeInfo(schema);
    visit(
      definition,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          if (error || !node.arguments?.length) return;
          const fieldDef = typeInfo.getFieldDef();
          if (!fieldDef) return;
          const args = getArgumentValues(fieldDef, node, variables);
          const found = findOversized(args, [node.name.value]);
          if (found) {
            error = new GraphQLError(
              `The input array size of ${found.size} is greater than the maximum allowed of ${MAX_INPUT_ARRAY_SIZE}.`,
              { nodes: node, path: found.path, extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' } },
            );
          }
        },
      }),
    );
    if (error) return error;
  }
  return undefined;
}
