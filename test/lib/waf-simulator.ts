/**
 * Evaluates a synthesized WAFv2 web ACL's rules (CloudFormation shape) for one request, the way WAF does:
 * rules in priority order, the first terminating action wins, managed rules overridden to Count add their
 * label instead. Managed rule groups cannot run here: the request says which rules of the common rule set
 * its content matches (what AWS documents those rules to inspect), the other groups match nothing. Covers
 * the statements the platform's ACL uses; anything else throws, so the simulation never guesses.
 */

export interface WafRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Rules of AWSManagedRulesCommonRuleSet whose patterns this request's content matches. */
  readonly commonRuleSetMatches: readonly string[];
}

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON of any WAF statement.
type Statement = Record<string, any>;

export interface WafRule {
  readonly Name: string;
  readonly Priority: number;
  readonly Action?: { Block?: unknown; Allow?: unknown; Count?: unknown };
  readonly OverrideAction?: unknown;
  readonly Statement: Statement;
}

const COMMON_RULE_SET = 'AWSManagedRulesCommonRuleSet';
const label = (rule: string) =>
  `awswaf:managed:aws:core-rule-set:${rule.replace(/_(BODY|HEADER)$/, (_, p: string) => `_${p[0]}${p.slice(1).toLowerCase()}`)}`;

function matches(statement: Statement, request: WafRequest, labels: Set<string>): boolean {
  if (statement.AndStatement)
    return statement.AndStatement.Statements.every((s: Statement) => matches(s, request, labels));
  if (statement.OrStatement)
    return statement.OrStatement.Statements.some((s: Statement) => matches(s, request, labels));
  if (statement.NotStatement) return !matches(statement.NotStatement.Statement, request, labels);
  if (statement.LabelMatchStatement) return labels.has(statement.LabelMatchStatement.Key);
  if (statement.RegexMatchStatement) {
    const { FieldToMatch, RegexString, TextTransformations } = statement.RegexMatchStatement;
    if (TextTransformations.some((t: { Type: string }) => t.Type !== 'NONE'))
      throw new Error('transformations');
    const value = FieldToMatch.UriPath
      ? request.path
      : FieldToMatch.SingleHeader
        ? (request.headers[String(FieldToMatch.SingleHeader.Name).toLowerCase()] ?? '')
        : undefined;
    if (value === undefined) throw new Error(`field ${JSON.stringify(FieldToMatch)}`);
    return new RegExp(RegexString).test(value);
  }
  if (statement.RateBasedStatement) return false; // one request is under any rate limit
  throw new Error(`statement not simulated: ${Object.keys(statement).join(',')}`);
}

export function wafDecision(rules: readonly WafRule[], request: WafRequest): 'allow' | 'block' {
  const labels = new Set<string>();
  for (const rule of [...rules].sort((a, b) => a.Priority - b.Priority)) {
    const group = rule.Statement.ManagedRuleGroupStatement;
    if (group) {
      if (group.Name !== COMMON_RULE_SET) continue;
      const counted = new Set(
        (group.RuleActionOverrides ?? [])
          .filter((o: Statement) => o.ActionToUse.Count)
          .map((o: Statement) => o.Name),
      );
      for (const fired of request.commonRuleSetMatches) {
        if (!counted.has(fired)) return 'block';
        labels.add(label(fired));
      }
      continue;
    }
    if (matches(rule.Statement, request, labels)) {
      if (rule.Action?.Block) return 'block';
      if (rule.Action?.Allow) return 'allow';
    }
  }
  return 'allow';
}
