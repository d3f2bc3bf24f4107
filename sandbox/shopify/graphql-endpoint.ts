/**
 * One GraphQL request through Shopify's pipeline, independent of HTTP:
 * parse → validate → coerce variables → requested cost (single-query max) → input array limits
 * → leaky bucket → execute → actual cost and refund.
 *
 * Variables are coerced once, by graphql-js `execute`: a 250-item input costs about as much to
 * coerce as the mutation costs to run. The steps from requested cost to the bucket ("admission")
 * need the coerced variables and must come before any resolver works, so every root field calls
 * `ResolverContext.admit` before it resolves (see schema.ts); the first call admits or refuses
 * the whole request, and a refused request is answered with the refusal alone.
 *
 * Every answer, error or not, carries `extensions.cost`; `actualQueryCost` is null when nothing
 * executed (throttled, rejected before execution), as on Shopify.
 */
import {
  execute,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
} from 'graphql';
import { actualQueryCost, MAX_SINGLE_QUERY_COST, requestedQueryCost, type CostInput } from './cost';
import { checkInputArraySizes } from './input-limits';
import { type ResolverContext } from './schema';
import { type SimulatorStore } from './store';
import { type LeakyBucket, type ThrottleStatus } from './throttle';
import { LruMap } from '../../core/lru-map';

export const THROTTLED_DOCUMENTATION_URL = 'https://shopify.dev/api/usage/rate-limits';

/** The JSON body a client posts. */
export interface GraphQLRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

export interface QueryCostExtension {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus;
}

/** The JSON body answered (always with HTTP 200, as Shopify does for GraphQL-level errors). */
export interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: ReturnType<GraphQLError['toJSON']>[];
  extensions: { cost: QueryCostExtension };
}

export interface GraphQLEndpointDeps {
  schema: GraphQLSchema;
  store: SimulatorStore;
  bucket: LeakyBucket;
}

/** Rewrites graphql-js validation messages that Shopify words differently (graphql-ruby style). */
function toShopifyValidationError(error: GraphQLError): GraphQLError {
  const undefinedField = /^Cannot query field "([^"]+)" on type "([^"]+)"\./.exec(error.message);
  if (undefinedField) {
    const [, fieldName, typeName] = undefinedField;
    return new GraphQLError(`Field '${fieldName}' doesn't exist on type '${typeName}'`, {
      nodes: error.nodes,
      extensions: { code: 'undefinedField', typeName, fieldName },
    });
  }
  const unknownArgument = /^Unknown argument "([^"]+)" on field "[^".]+\.([^"]+)"\./.exec(error.message);
  if (unknownArgument) {
    const [, argumentName, fieldName] = unknownArgument;
    return new GraphQLError(`Field '${fieldName}' doesn't accept argument '${argumentName}'`, {
      nodes: error.nodes,
      extensions: { code: 'argumentNotAccepted', name: fieldName, typeName: 'Field', argumentName },
    });
  }
  return error;
}

function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return fragments;
}

/**
 * Shopify's decision before executing: go ahead, having taken `requested` points from the bucket,
 * or the answer that refuses the request.
 */
type Admission = { refusal?: undefined; costInput: CostInput; requested: number } | { refusal: GraphQLResponse };

/** Distinct query texts kept parsed and validated (clients send the same few documents). */
const DOCUMENT_CACHE_SIZE = 100;

/** A query text's parse and validation outcome: a document, or the errors to answer with. */
type PreparedDocument = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: readonly GraphQLError[] };

export class GraphQLEndpoint {
  private readonly documents = new LruMap<string, PreparedDocument>(DOCUMENT_CACHE_SIZE);

  constructor(private readonly deps: GraphQLEndpointDeps) {}

  /**
   * Parses and validates a query text, once per distinct text (least recently used texts are
   * dropped past DOCUMENT_CACHE_SIZE), as GraphQL servers do: both depend only on the text and
   * the schema, and together they cost more than executing a 250-item mutation.
   */
  private prepare(query: string): PreparedDocument {
    return this.documents.getOrCreate(query, (text) => {
      try {
        const document = parse(text);
        const validationErrors = validate(this.deps.schema, document);
        return validationErrors.length > 0 ? { errors: validationErrors.map(toShopifyValidationError) } : { document };
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        return { errors: [error] };
      }
    });
  }

  private rejected(errors: readonly GraphQLError[], requestedQueryCost = 0): GraphQLResponse {
    return {
      errors: errors.map((error) => error.toJSON()),
      extensions: { cost: { requestedQueryCost, actualQueryCost: null, throttleStatus: this.deps.bucket.status() } },
    };
  }

  /** Requested cost, single-query max cost, input array limits, then the bucket. */
  private admit(costInput: CostInput): Admission {
    const { store, bucket } = this.deps;
    const requested = requestedQueryCost(costInput);
    if (requested > MAX_SINGLE_QUERY_COST) {
      const message = `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).`;
      const extensions = { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_SINGLE_QUERY_COST };
      return { refusal: this.rejected([new GraphQLError(message, { extensions })], requested) };
    }
    const { schema, operation, fragments, variables } = costInput;
    const oversized = checkInputArraySizes(schema, operation, fragments, variables);
    if (oversized) return { refusal: this.rejected([oversized], requested) };
    if (!bucket.tryTake(requested)) {
      store.recordThrottled();
      const extensions = { code: 'THROTTLED', documentation: THROTTLED_DOCUMENTATION_URL };
      return { refusal: this.rejected([new GraphQLError('Throttled', { extensions })], requested) };
    }
    return { costInput, requested };
  }

  async handle(request: GraphQLRequest, apiVersion: string): Promise<GraphQLResponse> {
    const { schema, store, bucket } = this.deps;
    const prepared = this.prepare(request.query);
    if (prepared.errors !== undefined) return this.rejected(prepared.errors);
    const { document } = prepared;

    const operation = getOperationAST(document, request.operationName ?? undefined);
    if (!operation) {
      const message = request.operationName
        ? `Unknown operation named "${request.operationName}".`
        : 'Must provide operation name if query contains multiple operations.';
      return this.rejected([new GraphQLError(message)]);
    }
    if (operation.operation === 'subscription') return this.rejected([new GraphQLError('Subscriptions are not supported.')]);

    let admission: Admission | undefined;
    const contextValue: ResolverContext = {
      store,
      apiVersion,
      admit: (info) => {
        admission ??= this.admit({ schema, operation: info.operation, fragments: info.fragments, variables: info.variableValues });
        // Stops this root field (and every other one) from resolving; the client gets the refusal.
        if (admission.refusal) throw new GraphQLError('Refused before execution.');
      },
    };
    const result = await execute({
      schema,
      document,
      operationName: request.operationName ?? undefined,
      variableValues: request.variables ?? {},
      contextValue,
      // Report every variable that fails to coerce (execute stops at 50 by default).
      options: { maxCoercionErrors: Number.POSITIVE_INFINITY },
    });
    // No data at all: the variables did not coerce, and nothing executed.
    if (result.data === undefined) return this.rejected(result.errors ?? []);
    if (admission === undefined) {
      // No root field got as far as resolving: only introspection fields were selected (they cost
      // nothing and are never refused), or each root field failed first. Nothing admission guards
      // has run, so admission runs now, on variables coerced again on this rare path.
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
      if (coerced.errors) return this.rejected(coerced.errors);
      admission = this.admit({ schema, operation, fragments: fragmentsOf(document), variables: coerced.coerced });
    }
    if (admission.refusal) return admission.refusal;

    const actual = Math.min(admission.requested, actualQueryCost(admission.costInput, result.data));
    bucket.refund(admission.requested - actual);
    return {
      data: result.data,
      ...(result.errors?.length ? { errors: result.errors.map((error) => error.toJSON()) } : {}),
      extensions: { cost: { requestedQueryCost: admission.requested, actualQueryCost: actual, throttleStatus: bucket.status() } },
    };
  }
}
