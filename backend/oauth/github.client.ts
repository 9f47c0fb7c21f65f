// GitHub's side of the authorization-code flow (docs/github.md): the authorize URL with PKCE (S256), the code
// exchange through arctic's OAuth2Client, and the one read of who signed in. Everything GitHub answers is
// checked here; callers get a GitHubUser or an OAUTH_FAILED AppError, never a library's error or a token.
import { ArcticFetchError, CodeChallengeMethod, OAuth2Client, OAuth2RequestError, generateCodeVerifier } from "arctic";
import { AppError } from "../errors";

/** What we ask GitHub for: the profile (id, login, name) and the addresses with their verified flags. */
export const GITHUB_SCOPES = ["read:user", "user:email"];
/** arctic's token request takes no AbortSignal: it is raced against this timer instead. */
export const TOKEN_TIMEOUT_MS = 10_000;
const API_TIMEOUT_MS = 10_000;

export interface GitHubSettings {
  clientId: string;
  clientSecret: string;
  oauthBaseUrl: string;
  apiBaseUrl: string;
}

export interface GitHubUser {
  /** GitHub's numeric id: the only key an account is found by (a login can be renamed and re-registered). */
  id: number;
  login: string;
  name: string | null;
  /** The primary address, only when GitHub says it is verified; null otherwise. */
  verifiedEmail: string | null;
}

/** Why a call to GitHub failed, for the log only (no token, code or body of GitHub's answer). */
export class GitHubFailure extends AppError {
  constructor(readonly reason: string) {
    super("OAUTH_FAILED");
  }
}

function raceTimer<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GitHubFailure(`token request timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

export function createGitHubClient(settings: GitHubSettings, redirectUri: string) {
  const client = new OAuth2Client(settings.clientId, settings.clientSecret, redirectUri);
  const authorizeEndpoint = `${settings.oauthBaseUrl}/login/oauth/authorize`;
  const tokenEndpoint = `${settings.oauthBaseUrl}/login/oauth/access_token`;

  async function apiGet(path: string, accessToken: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${settings.apiBaseUrl}${path}`, {
        headers: {
          Authorization: `Bearer ${accessToken}`,
          // GitHub refuses API requests without a User-Agent; the media type pins the documented JSON shape.
          Accept: "application/vnd.github+json",
          "User-Agent": "crossauth",
          "X-GitHub-Api-Version": "2022-11-28",
        },
        redirect: "error",
        signal: AbortSignal.timeout(API_TIMEOUT_MS),
      });
    } catch (err) {
      throw new GitHubFailure(`GET ${path} failed: ${(err as Error).name}`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new GitHubFailure(`GET ${path} answered ${response.status}`);
    }
    try {
      return await response.json();
    } catch {
      throw new GitHubFailure(`GET ${path} answered something that is not JSON`);
    }
  }

  return {
    redirectUri,

    /** A fresh PKCE code verifier (32 random bytes): kept in the state row, its S256 challenge goes to GitHub. */
    newVerifier: (): string => generateCodeVerifier(),

    /** The authorize URL for `state`, carrying the S256 challenge of `verifier`. */
    authorizeUrl(state: string, verifier: string): string {
      return client.createAuthorizationURLWithPKCE(authorizeEndpoint, state, CodeChallengeMethod.S256, verifier, GITHUB_SCOPES).href;
    },

    /**
     * Exchanges `code` (with the PKCE verifier) and reads the user and their addresses. GitHub's access token is
     * used for these two reads only and then dropped: it is never stored or logged.
     */
    async fetchUser(code: string, verifier: string): Promise<GitHubUser> {
      let data: Record<string, unknown>;
      try {
        data = (await raceTimer(client.validateAuthorizationCode(tokenEndpoint, code, verifier), TOKEN_TIMEOUT_MS)).data as Record<string, unknown>;
      } catch (err) {
        if (err instanceof GitHubFailure) throw err;
        if (err instanceof OAuth2RequestError) throw new GitHubFailure(`token request refused: ${err.code}`);
        if (err instanceof ArcticFetchError) throw new GitHubFailure("token request could not reach GitHub");
        throw new GitHubFailure(`token request failed: ${(err as Error).name}`);
      }
      // GitHub says "no" (a used or wrong code, a wrong verifier or secret) with HTTP 200 and an `error` field.
      if ("error" in data) throw new GitHubFailure(`token request refused: ${typeof data.error === "string" ? data.error.slice(0, 64) : "error"}`);
      const accessToken = data.access_token;
      if (typeof accessToken !== "string" || accessToken === "") throw new GitHubFailure("token response has no access_token");

      const [user, emails] = await Promise.all([apiGet("/user", accessToken), apiGet("/user/emails", accessToken)]);
      if (!isObject(user) || !Number.isSafeInteger(user.id) || (user.id as number) <= 0 || typeof user.login !== "string" || !/^[A-Za-z0-9-]{1,39}$/.test(user.login)) {
        throw new GitHubFailure("GET /user answered an unexpected shape");
      }
      if (!Array.isArray(emails)) throw new GitHubFailure("GET /user/emails answered an unexpected shape");
      const primary = emails.find((e) => isObject(e) && e.primary === true && e.verified === true && typeof e.email === "string" && /^[^\s@]+@[^\s@]+$/.test(e.email) && e.email.length <= 254);
      return {
        id: user.id as number,
        login: user.login,
        name: typeof user.name === "string" ? user.name : null,
        verifiedEmail: primary ? (primary.email as string) : null,
      };
    },
  };
}

export type GitHubClient = ReturnType<typeof createGitHubClient>;
