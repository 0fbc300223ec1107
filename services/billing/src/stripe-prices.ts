/**
 * The Stripe prices of each plan: a licensed seat price for every paid plan, and a metered price
 * of meeting minutes on the Billing Meter for the plans that bill overage (`PRICES` in the
 * domain's plan table says which). Their amounts must be the plan table's; docs/billing.md says
 * how to create them.
 */
import { PLANS, PRICES, type Plan } from '@quorum/domain';

export interface PlanPriceIds {
  seat: string | null;
  minutes: string | null;
}
export type StripePrices = Readonly<Record<Plan, PlanPriceIds>>;

export interface StripePriceEnv {
  STRIPE_PRICE_PRO_SEAT?: string | undefined;
  STRIPE_PRICE_BUSINESS_SEAT?: string | undefined;
  STRIPE_PRICE_ENTERPRISE_SEAT?: string | undefined;
  STRIPE_PRICE_PRO_MINUTES?: string | undefined;
  STRIPE_PRICE_BUSINESS_MINUTES?: string | undefined;
}

/**
 * The prices from settings.
 * @throws naming every setting a paid plan needs and lacks, so the sync never starts half set up.
 */
export function stripePricesFrom(env: StripePriceEnv): StripePrices {
  const missing: string[] = [];
  const ids = {} as Record<Plan, PlanPriceIds>;
  for (const plan of PLANS) {
    if (plan === 'free') {
      ids[plan] = { seat: null, minutes: null };
      continue;
    }
    const key = plan.toUpperCase();
    const seat = (env as Record<string, string | undefined>)[`STRIPE_PRICE_${key}_SEAT`];
    const minutes = (env as Record<string, string | undefined>)[`STRIPE_PRICE_${key}_MINUTES`];
    if (!seat) missing.push(`STRIPE_PRICE_${key}_SEAT`);
    const billsOverage = PRICES[plan].overagePerMinute !== null;
    if (billsOverage && !minutes) missing.push(`STRIPE_PRICE_${key}_MINUTES`);
    ids[plan] = { seat: seat ?? null, minutes: billsOverage ? (minutes ?? null) : null };
  }
  if (missing.length > 0) {
    throw new Error(`Stripe is connected (STRIPE_SECRET_KEY) but prices are not set: ${missing.join(', ')}`);
  }
  return ids;
}
