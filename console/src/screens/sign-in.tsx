// Shown when the browser has no session: how to get one.
export function SignIn({ detail }: { detail: string }) {
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to Swarmdesk</h1>
      <p>You are not signed in{detail ? ` (${detail})` : ""}.</p>
      <ul>
        <li>
          <a href="/auth/login">Sign in with your organisation's identity provider</a>, when one is configured.
        </li>
        <li>
          On the embedded default, run <code>swarmdesk login-link YOUR_NAME --role agent</code> and open the
          link it prints (it works once, within 5 minutes).
        </li>
      </ul>
    </main>
  );
}
