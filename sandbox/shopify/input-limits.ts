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

function findOversized(value: unknown, path: (string | number)[]): OversizedArray | undefined {
  if (Array.isArray(value)) {
    if (value.length > MAX_INPUT_ARRAY_SIZE) return { size: value.length, path };
    for (const [index, item] of value.entries()) {
      const found = findOversized(item, [...path, index]);
      if (found) return found;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const found = findOversized(item, [...path, key]);
      if (found) return found;
    }
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
