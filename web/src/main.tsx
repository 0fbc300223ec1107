// First: configures zod before any module builds a schema.
import './zod-config';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { errorCode } from './errors';
import { StatusProvider } from './status';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Reopening a page reads again: others may have changed the organization meanwhile.
      staleTime: 0,
      // Refusals (not found, forbidden, bad input) will not change by asking again.
      retry: (count, err) =>
        count < 2 && !['NOT_FOUND', 'FORBIDDEN', 'UNAUTHORIZED', 'BAD_REQUEST'].includes(errorCode(err) ?? ''),
    },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <StatusProvider>
        <App />
      </StatusProvider>
    </QueryClientProvider>
  </StrictMode>,
);
