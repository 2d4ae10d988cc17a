import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { setToken, token } from '../auth.js';

/** Shown when the queen refuses the request for want of a valid token. */
export function SignInPage() {
  const client = useQueryClient();
  const [value, setValue] = useState('');
  const had = token() !== undefined;
  return (
    <section aria-labelledby="signin-title" className="card narrow">
      <h1 id="signin-title">Sign in</h1>
      <p>
        {had ? 'The queen refused the saved token (unknown, revoked or expired).' : 'This queen needs an API token.'} The first start of a
        queen prints a platform administrator's token; <code>myrmex token create</code> makes others. It stays in this browser until you
        sign out.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value.trim());
          void client.resetQueries();
        }}
      >
        <label>
          API token
          <input type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} placeholder="myx_…" required />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}
