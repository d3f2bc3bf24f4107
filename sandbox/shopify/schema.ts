/**
 * The subset of the Shopify Admin GraphQL schema the connectors use, as SDL with real Shopify
 * names and shapes, plus its resolvers over the SimulatorStore. graphql-js parses, validates and
 * executes against it, so a query that would fail on Shopify (unknown field, wrong argument
 * type) fails here too.
 */
import {
  buildSchema,
  defaultFieldResolver,
  getDirectiveValues,
  GraphQLError,
  GraphQLObjectType,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import { rulesForVersion } from './api-versions';
import { paginate, type PageArgs } from './pagination';
import { parseSkuQuery } from './search-query';
import {
  QUANTITY_NAMES,
  type InventoryChangeRecord,
  type InventoryItemRecord,
  type InventoryLevelRecord,
  type QuantityName,
  type SetQuantitiesInput,
  type SimulatorStore,
  type VariantBulkInput,
  type VariantRecord,
} from './store';

export const SHOPIFY_SDL = /* GraphQL */ `
  "Shopify's idempotency directive: a duplicate request with the same key returns the original result."
  directive @idempotent(key: String!) on FIELD

  scalar DateTime
  "A monetary amount as a decimal string, such as 19.99 in quotes."
  scalar Money

  type Query {
    shop: Shop!
    locations(first: Int, after: String): LocationConnection!
    productVariants(first: Int, after: String, query: String): ProductVariantConnection!
    inventoryItem(id: ID!): InventoryItem
  }

  type Mutation {
    inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
    productVariantsBulkUpdate(productId: ID!, variants: [ProductVariantsBulkInput!]!): ProductVariantsBulkUpdatePayload
  }

  type Shop {
    id: ID!
    name: String!
    myshopifyDomain: String!
    "Shopify's type is the CurrencyCode enum; the value is the same ISO 4217 code."
    currencyCode: String!
  }

  type Location {
    id: ID!
    name: String!
    isActive: Boolean!
  }

  type Product {
    id: ID!
    title: String!
  }

  type ProductVariant {
    id: ID!
    sku: String
    title: String!
    price: Money!
    compareAtPrice: Money
    product: Product!
    inventoryItem: InventoryItem!
    "A metafield by namespace and key; null when the variant has none (an omitted namespace is the app's own, where the simulator keeps none)."
    metafield(namespace: String, key: String!): Metafield
  }

  type Metafield {
    namespace: String!
    key: String!
    type: String!
    "Always a string, whatever the type."
    value: String!
  }

  type InventoryItem {
    id: ID!
    sku: String
    tracked: Boolean!
    inventoryLevels(first: Int, after: String): InventoryLevelConnection!
  }

  type InventoryLevel {
    id: ID!
    location: Location!
    quantities(names: [String!]!): [InventoryQuantity!]!
  }

  type InventoryQuantity {
    name: String!
    quantity: Int!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type LocationConnection {
    edges: [LocationEdge!]!
    nodes: [Location!]!
    pageInfo: PageInfo!
  }
  type LocationEdge {
    cursor: String!
    node: Location!
  }

  type ProductVariantConnection {
    edges: [ProductVariantEdge!]!
    nodes: [ProductVariant!]!
    pageInfo: PageInfo!
  }
  type ProductVariantEdge {
    cursor: String!
    node: ProductVariant!
  }

  type InventoryLevelConnection {
    edges: [InventoryLevelEdge!]!
    nodes: [InventoryLevel!]!
    pageInfo: PageInfo!
  }
  type InventoryLevelEdge {
    cursor: String!
    node: InventoryLevel!
  }

  input InventorySetQuantitiesInput {
    name: String!
    reason: String!
    referenceDocumentUri: String
    quantities: [InventoryQuantityInput!]!
    ignoreCompareQuantity: Boolean
  }

  input InventoryQuantityInput {
    inventoryItemId: ID!
    locationId: ID!
    quantity: Int!
    changeFromQuantity: Int
    compareQuantity: Int
  }

  type InventorySetQuantitiesPayload {
    inventoryAdjustmentGroup: InventoryAdjustmentGroup
    userErrors: [InventorySetQuantitiesUserError!]!
  }

  type InventoryAdjustmentGroup {
    id: ID!
    createdAt: DateTime!
    reason: String!
    referenceDocumentUri: String
    changes: [InventoryChange!]!
  }

  type InventoryChange {
    name: String!
    delta: Int!
    quantityAfterChange: Int
    item: InventoryItem
    location: Location
  }

  input ProductVariantsBulkInput {
    id: ID
    price: Money
    compareAtPrice: Money
    metafields: [MetafieldInput!]
  }

  input MetafieldInput {
    namespace: String
    key: String
    type: String
    value: String
  }

  type ProductVariantsBulkUpdatePayload {
    product: Product
    productVariants: [ProductVariant!]
    userErrors: [ProductVariantsBulkUpdateUserError!]!
  }

  type ProductVariantsBulkUpdateUserError {
    code: String
    field: [String!]
    message: String!
  }

  type InventorySetQuantitiesUserError {
    code: String
    field: [String!]
    message: String!
  }
`;

/** What every resolver gets: the store, the API version of the request, and its admission. */
export interface ResolverContext {
  store: SimulatorStore;
  apiVersion: string;
  /**
   * Called by every root field before it resolves, with its info (which carries the variables
   * graphql-js coerced). Runs Shopify's checks that precede execution (cost, input limits,
   * bucket) once per request, and throws when they refuse it (see graphql-endpoint.ts).
   */
  admit(info: GraphQLResolveInfo): void;
}

type Resolver<TSource = unknown, TArgs = Record<string, unknown>> = GraphQLFieldResolver<TSource, ResolverContext, TArgs>;

/** A well-formed Shopify GID: `gid://shopify/<Type>/<number>`, optionally with a query string. */
const GID_PATTERN = /^gid:\/\/shopify\/[A-Za-z]+\/\d+(\?.*)?$/;

/**
 * Message returned when an inventory mutation lacks `@idempotent` on 2026-04+. Shopify documents
 * that this fails at runtime; the wording and code are the simulator's.
 */
export const IDEMPOTENCY_REQUIRED_MESSAGE = 'The @idempotent directive is required for this mutation.';

const QUANTITY_NAME_SET: ReadonlySet<string> = new Set(QUANTITY_NAMES);

function requireRecord<T>(record: T | undefined, what: string): T {
  // Records point at each other by id inside one store; a miss is a simulator bug, not user input.
  if (record === undefined) throw new Error(`simulator store is inconsistent: ${what} not found`);
  return record;
}

const queryResolvers: Record<string, Resolver> = {
  shop: (_source, _args, { store }) => store.shop,
  locations: (_source, args, { store }) => paginate(store.locations(), args as PageArgs),
  productVariants: (_source, args, { store }) => {
    const { query, ...page } = args as PageArgs & { query?: string | null };
    const skus = parseSkuQuery(query);
    return paginate(skus === undefined ? store.variants() : store.variantsWithSkus(skus), page);
  },
  inventoryItem: (_source, args, { store }) => {
    const id = String(args['id']);
    if (!GID_PATTERN.test(id)) throw new GraphQLError(`Invalid global id '${id}'`);
    return store.inventoryItem(id) ?? null;
  },
};

const variantResolvers: Record<string, Resolver<VariantRecord>> = {
  metafield: (variant, args, { store }) => {
    const { namespace, key } = args as { namespace?: string | null; key: string };
    return namespace === null || namespace === undefined ? null : (store.metafield(variant.id, namespace, key) ?? null);
  },
  product: (variant, _args, { store }) => requireRecord(store.product(variant.productId), variant.productId),
  inventoryItem: (variant, _args, { store }) => requireRecord(store.inventoryItem(variant.inventoryItemId), variant.inventoryItemId),
};

const inventoryItemResolvers: Record<string, Resolver<InventoryItemRecord>> = {
  inventoryLevels: (item, args, { store }) => paginate(store.inventoryLevels(item.id), args as PageArgs),
};

const inventoryLevelResolvers: Record<string, Resolver<InventoryLevelRecord>> = {
  location: (level, _args, { store }) => requireRecord(store.location(level.locationId), level.locationId),
  quantities: (level, args, { store }) => {
    const names = args['names'] as string[];
    const unknown = names.find((name) => !QUANTITY_NAME_SET.has(name));
    if (unknown !== undefined) {
      // Simulator's wording; Shopify rejects unknown quantity names as well.
      throw new GraphQLError(`'${unknown}' is not a valid inventory quantity name. Valid names: ${QUANTITY_NAMES.join(', ')}.`);
    }
    return names.map((name) => ({ name, quantity: store.quantity(level, name as QuantityName) }));
  },
};

const inventoryChangeResolvers: Record<string, Resolver<InventoryChangeRecord>> = {
  item: (change, _args, { store }) => store.inventoryItem(change.inventoryItemId) ?? null,
  location: (change, _args, { store }) => store.location(change.locationId) ?? null,
};

function mutationResolvers(schema: GraphQLSchema): Record<string, Resolver> {
  const idempotent = schema.getDirective('idempotent');
  if (!idempotent) throw new Error('SDL lacks @idempotent');
  return {
    inventorySetQuantities: (_source, args, { store, apiVersion }, info) => {
      const rules = rulesForVersion(apiVersion);
      const directive = getDirectiveValues(idempotent, info.fieldNodes[0]!, info.variableValues);
      const key = typeof directive?.['key'] === 'string' && directive['key'] !== '' ? directive['key'] : undefined;
      if (key === undefined && rules.idempotencyRequired) {
        throw new GraphQLError(IDEMPOTENCY_REQUIRED_MESSAGE, { extensions: { code: 'IDEMPOTENCY_KEY_REQUIRED' } });
      }
      return store.setInventoryQuantities(args['input'] as SetQuantitiesInput, { rules, idempotencyKey: key });
    },
    productVariantsBulkUpdate: (_source, args, { store }) => {
      const productId = String(args['productId']);
      if (!GID_PATTERN.test(productId)) throw new GraphQLError(`Invalid global id '${productId}'`);
      return store.updateVariantPrices(productId, args['variants'] as VariantBulkInput[]);
    },
  };
}

function attachResolvers(schema: GraphQLSchema, typeName: string, resolvers: Record<string, Resolver<never>>): void {
  const type = schema.getType(typeName);
  if (!(type instanceof GraphQLObjectType)) throw new Error(`SDL lacks object type ${typeName}`);
  const fields = type.getFields();
  for (const [fieldName, resolve] of Object.entries(resolvers)) {
    const field = fields[fieldName];
    if (!field) throw new Error(`SDL lacks field ${typeName}.${fieldName}`);
    field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
  }
}

/**
 * Makes every field of a root type admit the request before resolving, those without a resolver
 * of their own included: no field added to the SDL later can execute unadmitted.
 */
function admitBeforeResolving(rootType: GraphQLObjectType): void {
  for (const field of Object.values(rootType.getFields())) {
    const resolve: GraphQLFieldResolver<unknown, ResolverContext> = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args, context: ResolverContext, info) => {
      context.admit(info);
      return resolve(source, args, context, info);
    };
  }
}

/** Builds the executable schema. Fields without a resolver read the record property of the same name. */
export function buildShopifySchema(): GraphQLSchema {
  const schema = buildSchema(SHOPIFY_SDL);
  attachResolvers(schema, 'Query', queryResolvers);
  attachResolvers(schema, 'Mutation', mutationResolvers(schema));
  attachResolvers(schema, 'ProductVariant', variantResolvers);
  attachResolvers(schema, 'InventoryItem', inventoryItemResolvers);
  attachResolvers(schema, 'InventoryLevel', inventoryLevelResolvers);
  attachResolvers(schema, 'InventoryChange', inventoryChangeResolvers);
  for (const rootType of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (rootType) admitBeforeResolving(rootType);
  }
  return schema;
}
