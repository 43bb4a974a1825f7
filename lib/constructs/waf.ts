import { aws_wafv2 as wafv2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * A regular expression matching the decimal integers greater than `limit` (no sign, no leading zeros):
 * longer numbers, or same-length numbers that exceed `limit` at their first differing digit. WAF cannot
 * compare numbers, and its body inspection stops at 8-64 KB, so the Content-Length header is matched.
 */
export function integerGreaterThanPattern(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new Error(`limit must be a non-negative integer: ${limit}`);
  const digits = String(limit);
  const alternatives = [`[1-9][0-9]{${digits.length},}`];
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    if (d === 9) continue;
    const rest = digits.length - i - 1;
    alternatives.push(`${digits.slice(0, i)}[${d + 1}-9]${rest > 0 ? `[0-9]{${rest}}` : ''}`);
  }
  return `^(?:${alternatives.join('|')})$`;
}

export interface ApiFirewallProps {
  readonly name: string;
  /** ARN of the API Gateway stage to protect. */
  readonly stageArn: string;
  readonly maxBodyBytes: number;
  readonly rateLimitPer5Min: number;
  /** Paths whose bodies are producers' records (the POST routes), without the stage prefix. */
  readonly recordRoutes: readonly string[];
}

/**
 * Rules of the common rule set that inspect the body for attack text. Records are data that the API never
 * renders, includes or fetches, and legitimate text (`<b>`, `../`, a URL, a 500-record batch over 8 KB)
 * trips them — one such record would refuse its whole batch. They only count (and label) in the group; a
 * later rule blocks their labels on every path that is not a record route, so other paths keep them.
 */
export const RECORD_BODY_RULES = [
  'CrossSiteScripting_BODY',
  'GenericLFI_BODY',
  'GenericRFI_BODY',
  'SizeRestrictions_BODY',
] as const;

/** The label a common-rule-set rule adds (`…_BODY` rules label `…_Body`). */
export const commonRuleSetLabel = (rule: string): string =>
  `awswaf:managed:aws:core-rule-set:${rule.replace(/_BODY$/, '_Body')}`;

const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  sampledRequestsEnabled: true,
  metricName,
});

const managed = (name: string, priority: number, overrides: string[] = []): wafv2.CfnWebACL.RuleProperty => ({
  name,
  priority,
  overrideAction: { none: {} },
  statement: {
    managedRuleGroupStatement: {
      vendorName: 'AWS',
      name,
      ruleActionOverrides: overrides.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
    },
  },
  visibilityConfig: visibility(name),
});

/**
 * The API's WAF: AWS managed rule groups, a per-IP rate limit, and a body size limit on Content-Length
 * (413 above maxBodyBytes). The common rule set's body rules count on record routes (RECORD_BODY_RULES).
 */
export class ApiFirewall extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    // Request paths carry the stage (/v1/ingest-…); match the route at the end, with or without a slash.
    const recordRoute: wafv2.CfnWebACL.StatementProperty = {
      regexMatchStatement: {
        fieldToMatch: { uriPath: {} },
        regexString: `^/[^/]+(?:${props.recordRoutes.map((r) => r.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})/?$`,
        textTransformations: [{ priority: 0, type: 'NONE' }],
      },
    };
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.name,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(props.name),
      customResponseBodies: {
        TooLarge: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({ detail: `Request body larger than ${props.maxBodyBytes} bytes` }),
        },
      },
      rules: [
        {
          name: 'BodyTooLarge',
          priority: 0,
          action: { block: { customResponse: { responseCode: 413, customResponseBodyKey: 'TooLarge' } } },
          statement: {
            regexMatchStatement: {
              fieldToMatch: { singleHeader: { Name: 'content-length' } },
              regexString: integerGreaterThanPattern(props.maxBodyBytes),
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          visibilityConfig: visibility('BodyTooLarge'),
        },
        {
          name: 'RatePerIp',
          priority: 1,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.rateLimitPer5Min, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RatePerIp'),
        },
        managed('AWSManagedRulesAmazonIpReputationList', 2),
        managed('AWSManagedRulesCommonRuleSet', 3, [...RECORD_BODY_RULES]),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 4),
        {
          name: 'BodyRulesOutsideRecordRoutes',
          priority: 5,
          action: { block: {} },
          statement: {
            andStatement: {
              statements: [
                {
                  orStatement: {
                    statements: RECORD_BODY_RULES.map((rule) => ({
                      labelMatchStatement: { scope: 'LABEL', key: commonRuleSetLabel(rule) },
                    })),
                  },
                },
                { notStatement: { statement: recordRoute } },
              ],
            },
          },
          visibilityConfig: visibility('BodyRulesOutsideRecordRoutes'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
