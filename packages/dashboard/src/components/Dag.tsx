import dagre from '@dagrejs/dagre';
import { Background, Controls, type Edge, MarkerType, type Node, Position, ReactFlow } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useMemo } from 'react';
import type { Graph, Task } from '../api.js';
import { edgeStatus } from '../routes-taken.js';

const WIDTH = 170;
const HEIGHT = 54;

/** The job's task graph laid out by dagre and drawn by React Flow, each task in its state's colour. */
export function Dag({ graph, tasks }: { graph: Graph; tasks: readonly Task[] }) {
  const { nodes, edges } = useMemo(() => {
    const layout = new dagre.graphlib.Graph();
    layout.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 60 });
    layout.setDefaultEdgeLabel(() => ({}));
    for (const node of graph.nodes) layout.setNode(node.task_type, { width: WIDTH, height: HEIGHT });
    for (const edge of graph.edges) layout.setEdge(edge.from, edge.to);
    dagre.layout(layout);
    const byType = new Map(tasks.map((t) => [t.task_type, t]));
    const nodes: Node[] = graph.nodes.map((node) => {
      const position = layout.node(node.task_type);
      const task = byType.get(node.task_type);
      const state = task?.state ?? 'PENDING';
      return {
        id: node.task_type,
        position: { x: (position?.x ?? 0) - WIDTH / 2, y: (position?.y ?? 0) - HEIGHT / 2 },
        data: {
          label: (
            <span>
              <strong>{node.task_type}</strong>
              <br />
              <small>
                {state}
                {task?.exit_code !== undefined ? ` · exit ${task.exit_code}` : ''}
                {node.always_run ? ' · always' : ''}
              </small>
            </span>
          ),
        },
        className: `dag-node state-${state.toLowerCase()}`,
        ariaLabel: `task ${node.task_type}: ${state}`,
        style: { width: WIDTH },
        sourcePosition: Position.Right,
        targetPosition: Position.Left,
        draggable: false,
        connectable: false,
      };
    });
    const edges: Edge[] = graph.edges.map((edge, index) => {
      const status = edgeStatus(edge.kind, byType.get(edge.from), byType.get(edge.to));
      return {
        id: `${edge.from}-${edge.to}-${index}`,
        source: edge.from,
        target: edge.to,
        label: edge.kind === 'needs' ? undefined : edge.kind.replace('on_', '').replace('exit_code:', 'exit '),
        className: `dag-edge ${status}`,
        animated: status === 'pending' && byType.get(edge.from)?.state === 'EXECUTING',
        markerEnd: { type: MarkerType.ArrowClosed },
        data: { status },
      };
    });
    return { nodes, edges };
  }, [graph, tasks]);
  return (
    <figure className="dag" aria-label={`Task graph: ${nodes.length} tasks, ${edges.length} edges`}>
      <ReactFlow nodes={nodes} edges={edges} fitView nodesDraggable={false} proOptions={{ hideAttribution: true }} minZoom={0.3}>
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </figure>
  );
}
