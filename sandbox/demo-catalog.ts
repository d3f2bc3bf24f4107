/**
 * The demo retailer shared by every sandbox system: one deterministic catalog, so the sandbox
 * ERP and the sandbox Shopify store describe the same products without talking to each other.
 */

/** Deterministic PRNG (mulberry32): the same seed gives the same demo data on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOUNS = [
  'Kubek ceramiczny', 'Koszulka bawełniana', 'Plecak miejski', 'Czajnik elektryczny', 'Ręcznik kąpielowy',
  'Poduszka dekoracyjna', 'Lampka nocna', 'Zegarek sportowy', 'Słuchawki bezprzewodowe', 'Patelnia żeliwna',
  'Świeca zapachowa', 'Koc polarowy', 'Parasol składany', 'Butelka termiczna', 'Notes w kratkę',
  'Szalik wełniany', 'Rękawiczki skórzane', 'Deska do krojenia', 'Młynek do kawy', 'Doniczka gliniana',
];
const ADJECTIVES = [
  'zielony', 'czerwony', 'granatowy', 'żółty', 'szary', 'biały', 'czarny', 'różowy', 'błękitny', 'beżowy',
];
const SIZES = ['XS', 'S', 'M', 'L', 'XL', '0,5 l', '1 l', '1,5 l', 'mały', 'duży'];

export interface DemoProduct {
  /** ERP primary key of the product (towary.id). */
  erpId: number;
  sku: string;
  ean: string;
  name: string;
}

/** ERP warehouses (magazyny). MAG-ZW holds damaged returns and is not sold anywhere. */
export const DEMO_ERP_LOCATIONS = [
  { erpId: 1, code: 'MAG-WAW', name: 'Magazyn centralny Warszawa', type: 'warehouse' as const },
  { erpId: 2, code: 'SKLEP-KRK', name: 'Sklep Kraków Floriańska', type: 'store' as const },
  { erpId: 3, code: 'MAG-ZW', name: 'Magazyn zwrotów i reklamacji', type: 'warehouse' as const },
];

/** Locations of the sandbox Shopify store; mappings/ maps ERP warehouses onto them. */
export const DEMO_SHOPIFY_LOCATIONS = [
  { id: 'gid://shopify/Location/71001', name: 'Magazyn Warszawa' },
  { id: 'gid://shopify/Location/71002', name: 'Sklep Kraków' },
];

/**
 * The demo's second warehouse: a partner that has no API and drops a CSV of its stock on the
 * sandbox SFTP server (sandbox/sftp/). Its stock goes to a Shopify location of its own, which
 * only the file sync writes, so the ERP sync and the file sync never set the same level.
 */
export const DEMO_PARTNER_WAREHOUSE = { code: 'MAG-POZ', name: 'Magazyn partnerski Poznań' };
/** The partner warehouse's Shopify location: only the demo (`omnisync dev`) adds it (the simulator's `extraLocations`). */
export const DEMO_PARTNER_SHOPIFY_LOCATION = { id: 'gid://shopify/Location/71003', name: 'Magazyn partnerski Poznań' };

/** Every Nth demo SKU is listed in the ERP but not in the Shopify store (shows the quarantine). */
export const DEMO_UNLISTED_EVERY = 250;

function ean13(body12: string): string {
  const digits = body12.split('').map(Number);
  const sum = digits.reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 1 : 3), 0);
  return body12 + String((10 - (sum % 10)) % 10);
}

export function demoProducts(count: number): DemoProduct[] {
  const products: DemoProduct[] = [];
  for (let i = 1; i <= count; i++) {
    const noun = NOUNS[i % NOUNS.length]!;
    const adjective = ADJECTIVES[Math.floor(i / NOUNS.length) % ADJECTIVES.length]!;
    const size = SIZES[Math.floor(i / (NOUNS.length * ADJECTIVES.length)) % SIZES.length]!;
    products.push({
      erpId: i,
      sku: `PL-${String(i).padStart(6, '0')}`,
      ean: ean13(`590${String(i).padStart(9, '0')}`),
      name: `${noun} ${adjective} ${size}`,
    });
  }
  return products;
}

export function isListedInShopify(product: DemoProduct): boolean {
  return product.erpId % DEMO_UNLISTED_EVERY !== 0;
}

/**
 * The price a demo product starts with in the sandbox Shopify store, as Shopify returns it (a
 * decimal string with two digits): deterministic from its ERP id, between 9.99 and 208.99.
 */
export function demoShopifyPrice(product: DemoProduct): string {
  return `${9 + ((product.erpId * 37) % 200)}.99`;
}
