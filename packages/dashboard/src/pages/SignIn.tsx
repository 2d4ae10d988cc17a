import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { signIn } from '../auth.js';
import { ErrorNote } from '../components/StateBadge.js';

/** Shown when the queen refuses a request for want of a valid session. */
export function SignInPage() {
  const client = useQueryClient();
  const [value, setValue] = useState('');
  const submit = useMutation({
    mutationFn: async (token: string) => {
      const refusal = await signIn(token);
      if (refusal) throw new Error(refusal);
      await client.resetQueries();
    },
  });
  return (
    <section aria-labelledby="signin-title" className="card narrow">
      <h1 id="signin-title">Sign in</h1>
      <p>
        This queen needs an API token. Its first start printed a platform administrator's token; <code>myrmex token create</code> makes
        others. The queen keeps the session in a cookie this page cannot read, for 12 hours or until you sign out.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit.mutate(value.trim());
        }}
      >
        <label>
          API token
          <input type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} placeholder="myx_…" required />
        </label>
        <button type="submit" disabled={submit.isPending}>
          Sign in
        </button>
        <ErrorNote error={submit.error} />
      </form>
    </section>
  );
}
