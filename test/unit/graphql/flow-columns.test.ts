import { Kind, parse, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { flowColumnsOf } from '../../../src/graphql/flow-columns.ts';

/** The `flows` field nodes and fragments of a document, as a resolver's info carries them. */
function columnsOf(document: string): readonly string[] | null {
  const doc = parse(document);
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const flows = (op?.selectionSet.selections ?? []).filter(
    (s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === 'flows',
  );
  const fragments = Object.fromEntries(
    doc.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  return flowColumnsOf(flows, fragments);
}

describe('flowColumnsOf', () => {
  it('maps the fields under nodes and edges.node to their columns, once each', () => {
    expect(
      columnsOf(`{ flows(filter: {}) { nodes { start srcAddr protocolName protocol } pageInfo { hasNextPage } } }`),
    ).toEqual(['start_time', 'srcaddr', 'protocol']);
    expect(
      columnsOf(
        `{ flows(filter: {}) { edges { cursor node { flowId accountId date tcpFlagNames extraFields { name } } } } }`,
      ),
    ).toEqual(['flow_id', 'account_id', 'date', 'tcp_flags', 'extra']);
  });

  it('follows named and inline fragments at every level, and ignores __typename', () => {
    const doc = `query { flows(filter: {}) { ...Conn } }
      fragment Conn on FlowConnection { edges { ... on FlowEdge { node { __typename ...F } } } nodes { end } }
      fragment F on Flow { dstAddr ... on Flow { bytes } }`;
    expect(columnsOf(doc)).toEqual(['end_time', 'dstaddr', 'bytes']);
  });

  it('answers "every column" for a field it does not know (resolvers that read whole rows)', () => {
    expect(columnsOf(`{ flows(filter: {}) { nodes { srcAddr clientAddr } } }`)).toBeNull();
  });

  it('asks for no column when no node field is selected (flow_id is added by the query)', () => {
    expect(columnsOf(`{ flows(filter: {}) { pageInfo { endCursor } } }`)).toEqual([]);
  });
});
