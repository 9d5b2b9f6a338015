/**
 * The file formats a BI dataset downloads as. The /datasets route parses them from the URL and the COPY wrapper
 * (src/store/queries/dataset-copy-query.ts) fixes one representation per format, so the list sits below both.
 */

/** Download formats. */
export const DATASET_FORMATS = ['csv', 'json', 'parquet'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];
