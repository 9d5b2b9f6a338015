/** The schema request GraphiQL (as bundled by @graphql-yoga/render-graphiql) sends when it opens. */
import { getIntrospectionQuery } from 'graphql';

export const GRAPHIQL_INTROSPECTION = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});
