/**
 * The `connectors:` block of a minimal valid config (the demo's erp-sql and shopify), for tests
 * that write config text around it.
 */
export const DEMO_CONNECTORS_YAML = `connectors:
  erp:
    kind: erp-sql
    config:
      database: { driver: sqlite, file: ./erp.sqlite }
      tables:
        products: { table: towary, id: id, sku: indeks, name: nazwa }
        locations: { table: magazyny, id: id, code: symbol }
        stock: { table: stany, id: id, productId: towar_id, locationId: magazyn_id, onHand: ilosc, reserved: zarezerwowano, modifiedAt: zmodyfikowano }
  shopify:
    kind: shopify
    config:
      shopUrl: http://127.0.0.1:8601
      accessToken: \${env:SHOPIFY_ACCESS_TOKEN}
`;
