// A purchase through microshop's pages in headless Chromium, as a person makes it: the
// home page, a search, a product, the cart (its quantity changed), checkout with a
// shipping quote, the form typed into through its labels, the approving test card, and
// the order page, which must turn to "Paid" by itself (it polls; nothing reloads it).
//
// Usage: node purchase.mjs [BASE_URL] [SCREENSHOT_DIR]
//   BASE_URL        the frontend (default http://127.0.0.1:8080)
//   SCREENSHOT_DIR  where home.png, product.png, cart.png, checkout.png and order.png go
//                   (default e2e/artifacts/screenshots)
// Environment: MICROSHOP_BROWSER_MODULES, the node_modules holding playwright-core
// (run.sh sets it; default ~/.cache/microshop/browser/node_modules); CHROMIUM (default
// /usr/bin/chromium); SEARCH (default "skillet").
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

const base = (process.argv[2] || 'http://127.0.0.1:8080').replace(/\/$/, '');
const shots = resolve(process.argv[3] || 'e2e/artifacts/screenshots');
const modules = process.env.MICROSHOP_BROWSER_MODULES
  || join(homedir(), '.cache', 'microshop', 'browser', 'node_modules');
const { chromium } = createRequire(join(modules, 'noop.js'))('playwright-core');
const search = process.env.SEARCH || 'skillet';
const year = String(new Date().getFullYear() + 2);

mkdirSync(shots, { recursive: true });
const started = Date.now();
const step = (what) => console.log(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${what}`);
const fail = (message) => { throw new Error(message); };

// Typed key by key, as from a keyboard, into the input a label names.
async function type(page, label, text) {
  const input = page.getByLabel(label, { exact: true });
  await input.click();
  await input.press('ControlOrMeta+a');
  await input.press('Backspace');
  await input.pressSequentially(text, { delay: 5 });
}

async function shoot(page, name) {
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(shots, `${name}.png`) });
  step(`screenshot ${name}.png`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  page.on('response', (answer) => {
    if (answer.status() >= 500) problems.push(`${answer.status()} from ${answer.url()}`);
  });

  // Home, then a search from the header's search box.
  await page.goto(`${base}/`);
  await page.getByRole('heading', { name: 'All products', level: 1 }).waitFor();
  const cards = await page.locator('.product-card').count();
  if (cards < 2) fail(`the home page lists ${cards} products`);
  step(`home page: ${cards} products shown`);
  await shoot(page, 'home');
  await type(page, 'Search products', search);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.searchParams.get('q') === search);
  const found = page.locator('.product-card__link');
  if ((await found.count()) < 1) fail(`searching "${search}" found nothing`);
  step(`search "${search}": ${await found.count()} found`);

  // The product page; add one to the cart.
  await found.first().click();
  await page.waitForURL(/\/products\/[a-z0-9-]+$/);
  const productId = new URL(page.url()).pathname.split('/').pop();
  const name = (await page.getByRole('heading', { level: 1 }).textContent()).trim();
  step(`product page: ${name} (${productId})`);
  await shoot(page, 'product');
  await type(page, 'Quantity', '1');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.waitForURL(`${base}/cart`); // adding leads to the cart
  await page.locator('.cart-count').filter({ hasText: '1' }).waitFor();
  step('added to the cart');

  // The cart: change the quantity to 2.
  const unit = (await page.locator('.unit-price').first().textContent()).trim();
  await type(page, `Quantity of ${name}`, '2');
  await page.getByRole('button', { name: `Update ${name}` }).click();
  await page.waitForURL(`${base}/cart`);
  const quantity = await page.getByLabel(`Quantity of ${name}`, { exact: true }).inputValue();
  if (quantity !== '2') fail(`the cart shows quantity ${quantity} after changing it to 2`);
  await page.locator('.cart-count').filter({ hasText: '2' }).waitFor();
  step(`cart: ${name} × 2 at ${unit}, subtotal ${(await page.locator('.subtotal').textContent()).trim()}`);
  await shoot(page, 'cart');

  // Checkout: the address, a shipping quote, then the card.
  await page.getByRole('link', { name: 'Go to checkout' }).click();
  await page.waitForURL(`${base}/checkout`);
  await type(page, 'E-mail', 'browser@example.com');
  await type(page, 'Full name', 'Ada Lovelace');
  await type(page, 'Street and number', '12 Analytical Row');
  await type(page, 'Postal code', 'NW1 2AB');
  await type(page, 'City', 'London');
  await type(page, 'Country code', 'GB');
  await page.getByRole('button', { name: 'Get shipping quote' }).click();
  const shipping = page.locator('dd.shipping');
  await shipping.filter({ hasText: /\d/ }).waitFor();
  if ((await page.getByLabel('City', { exact: true }).inputValue()) !== 'London') {
    fail('the quote lost the address typed in');
  }
  step(`shipping quote: ${(await shipping.textContent()).trim()}`);
  await type(page, 'Card number', '4242 4242 4242 4242');
  await type(page, 'Expiry month', '12');
  await type(page, 'Expiry year', year);
  await type(page, 'Security code', '123');
  await shoot(page, 'checkout');

  // Place the order and watch the order page settle without reloading it.
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
  const orderUrl = page.url();
  let navigations = 0;
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations += 1; });
  const label = page.locator('#order-status [data-field="label"]');
  step(`order page: ${orderUrl}, first showing "${await label.textContent()}"`);
  await label.filter({ hasText: /^(Paid|Payment failed)$/ }).waitFor({ timeout: 60_000 });
  if ((await label.textContent()) !== 'Paid') fail(`the order shows "${await label.textContent()}"`);
  const tracking = page.locator('#order-status [data-field="tracking_id"]');
  await page.waitForFunction(
    () => !/Coming soon/.test(document.querySelector('#order-status [data-field="tracking_id"]').textContent),
  );
  const transaction = (await page.locator('#order-status [data-field="transaction_id"]').textContent()).trim();
  if (navigations !== 0 || page.url() !== orderUrl) fail('the order page reloaded to show the payment');
  const lines = await page.locator('.order-lines tbody tr').allTextContents();
  if (lines.length !== 1 || !lines[0].includes(name)) fail(`the order's lines: ${lines}`);
  step(`paid without a reload: transaction ${transaction}, tracking ${(await tracking.textContent()).trim()}`);
  await shoot(page, 'order');

  if (problems.length) fail(`the pages reported problems:\n  ${problems.join('\n  ')}`);
  console.log(`browser purchase ok in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`);
} catch (err) {
  if (page) {
    await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true }).catch(() => {});
    console.error(`FAIL at ${page.url()} (failure.png in ${shots}): ${err.message}`);
  } else {
    console.error(`FAIL: ${err.message}`);
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
