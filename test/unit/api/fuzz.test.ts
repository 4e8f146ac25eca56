/** The route fuzz (test/helpers/routeFuzz.ts) over the fake job service: 10,000 requests, in process. */
import { describeRouteFuzz } from '../../helpers/routeFuzz.ts';
import { asUser, createApi } from './harness.ts';

describeRouteFuzz('fuzz', {
  runs: 10_000,
  setup: async () => {
    const { app, identity } = createApi();
    return { app, identity, asUser, close: () => app.close() };
  },
});
