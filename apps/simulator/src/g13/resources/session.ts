import { HttpError, Route, RouteState, SUCCESS, invalid, requireBody } from './router';

/** Login (the password change default-password mode demands) and logout. */
export function sessionRoutes(state: RouteState): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/login\/?$/,
      handle: ({ body, user }) => {
        if (body === undefined) return SUCCESS;
        const request = requireBody(body);
        const { name, oldkey, key } = request;
        if (typeof name !== 'string' || typeof oldkey !== 'string' || typeof key !== 'string')
          throw invalid('missing name and key tag in JSON .');
        if (name !== user.name || oldkey !== user.password) throw new HttpError(403, 'Invalid old password.');
        if (key.length === 0 || key.length > 32) throw invalid();
        user.password = key;
        state.mustChangePassword.delete(user.name);
        return SUCCESS;
      },
    },
    { method: 'POST', pattern: /^\/logout\/?$/, handle: () => SUCCESS },
  ];
}
