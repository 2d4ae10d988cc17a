import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { needsSignIn, onAuthChange, signedIn, signOut } from './auth.js';
import { AntsPage } from './pages/Ants.js';
import { DefinitionsPage } from './pages/Definitions.js';
import { JobPage } from './pages/Job.js';
import { JobsPage } from './pages/Jobs.js';
import { PostmortemPage } from './pages/Postmortem.js';
import { QueuePage } from './pages/Queue.js';
import { QuotasPage } from './pages/Quotas.js';
import { SignInPage } from './pages/SignIn.js';
import { href, useRoute } from './router.js';

const NAV = [
  ['jobs', 'Jobs'],
  ['definitions', 'Definitions'],
  ['ants', 'Ants'],
  ['queue', 'Queue'],
  ['quotas', 'Quotas'],
] as const;

type Theme = 'light' | 'dark';

function useTheme(): [Theme, () => void] {
  const initial = (): Theme => {
    const saved = localStorage.getItem('myrmex-theme');
    if (saved === 'light' || saved === 'dark') return saved;
    return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  };
  const [theme, setTheme] = useState<Theme>(initial);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  // Only a choice made here is remembered; until then the page follows the system's setting.
  const toggle = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem('myrmex-theme', next);
    setTheme(next);
  };
  return [theme, toggle];
}

export function App() {
  const route = useRoute();
  const [theme, toggle] = useTheme();
  const client = useQueryClient();
  const signIn = useSyncExternalStore(onAuthChange, needsSignIn);
  const session = useSyncExternalStore(onAuthChange, signedIn);
  const [page = 'jobs', id, extra] = route;
  let content: React.ReactNode;
  if (signIn) content = <SignInPage />;
  else if (page === 'jobs' && id && extra === 'postmortem') content = <PostmortemPage id={id} />;
  else if (page === 'jobs' && id) content = <JobPage id={id} />;
  else if (page === 'definitions') content = <DefinitionsPage selected={id} />;
  else if (page === 'ants') content = <AntsPage />;
  else if (page === 'queue') content = <QueuePage />;
  else if (page === 'quotas') content = <QuotasPage />;
  else content = <JobsPage />;
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href('jobs')}>
          Myrmex
        </a>
        <nav aria-label="Main">
          {NAV.map(([key, label]) => (
            <a key={key} href={href(key)} aria-current={page === key ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        {session && !signIn && (
          <button
            type="button"
            className="ghost"
            onClick={() => {
              void signOut().then(() => client.clear());
            }}
          >
            Sign out
          </button>
        )}
        <button type="button" className="ghost" onClick={toggle} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} mode`}>
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {content}
      </main>
    </div>
  );
}
