import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';

/**
 * Follows a job's event stream (server-sent events) and refreshes its queries on every transition,
 * so the page changes as the job does, without polling.
 */
export function useJobEvents(id: string, active: boolean): void {
  const client = useQueryClient();
  useEffect(() => {
    if (!active) return;
    const source = new EventSource(`api/jobs/requests/${encodeURIComponent(id)}/events?follow=true`);
    const refresh = () => {
      void client.invalidateQueries({ queryKey: ['job', id] });
      void client.invalidateQueries({ queryKey: ['jobs'] });
    };
    // On (re)connecting too: transitions before the stream was open reached no listener.
    source.addEventListener('open', refresh);
    source.addEventListener('transition', refresh);
    source.addEventListener('end', () => {
      refresh();
      source.close();
    });
    return () => source.close();
  }, [id, active, client]);
}
