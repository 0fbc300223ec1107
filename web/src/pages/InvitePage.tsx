import { useQuery, useQueryClient } from '@tanstack/react-query';
import { PageTitle } from '../PageTitle';
import { recordPosition } from '../positions';
import { Link, navigate } from '../router';
import { ME_KEY, useMe } from '../session';
import { useAction } from '../status';
import { trpc } from '../trpc';
import { FormError, Loading } from '../ui';

/**
 * `/invite/<orgId>/<invitationId>/<token>`, the link mailed to the invited address: the invitee,
 * logged in with that address, joins with one click. The token is what proves the mail reached them.
 */
export function InvitePage({ orgId, invitationId, token }: { orgId: string; invitationId: string; token: string }) {
  const me = useMe();
  const queryClient = useQueryClient();
  // A member already sees the organization; anyone else gets NOT_FOUND until they join.
  const existing = useQuery({
    queryKey: ['org.get', orgId, 'invite'],
    queryFn: () => trpc.org.get.query({ orgId }),
    retry: false,
  });
  const accept = useAction(() => trpc.members.accept.mutate({ orgId, invitationId, token }), {
    orgId,
    progress: () => 'Joining the organization…',
    success: () => 'You joined the organization.',
    onSuccess: (out) => {
      recordPosition(orgId, out.position);
      // Accepting proved the address: the banner asking to confirm it goes.
      void queryClient.invalidateQueries({ queryKey: ME_KEY });
      navigate(`/orgs/${orgId}/seats`);
    },
  });

  if (existing.isPending) return <Loading what="the invitation" />;
  if (existing.data) {
    return (
      <PageTitle title={`You already belong to ${existing.data.name}`}>
        <p>
          <Link to={`/orgs/${orgId}/seats`}>Open {existing.data.name}</Link>
        </p>
      </PageTitle>
    );
  }
  return (
    <PageTitle title="Join an organization">
      <div className="card narrow">
        <p>You have been invited to join an organization on Quorum.</p>
        <p className="hint">
          You are logged in as <strong>{me.data?.email}</strong>. The invitation works only for the email address it was
          sent to.
        </p>
        <FormError text={accept.errorText} />
        <button type="button" className="primary" onClick={() => accept.mutate(undefined)} disabled={accept.isPending}>
          {accept.isPending ? 'Joining…' : 'Join organization'}
        </button>
      </div>
    </PageTitle>
  );
}
