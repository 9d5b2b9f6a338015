/** The orders a flows page can be read in; the keyset SQL behind them is src/store/queries/flows-page-query.ts. */

/** Sort orders of a flows page. */
export const FLOW_ORDERS = ['START_TIME_ASC', 'START_TIME_DESC'] as const;
export type FlowOrder = (typeof FLOW_ORDERS)[number];
