/** The hosted page's texts, English and French. The error texts are Auth0's (docs/auth0-compatibility.md). */
const en = {
  title: 'Log in',
  continueTo: 'to continue to',
  emailLabel: 'Email address',
  phoneLabel: 'Phone number',
  phoneHint: 'International format, starting with + and the country code, e.g. +33 6 12 34 56 78.',
  continue: 'Continue',
  sendLink: 'Email me a link instead',
  orSms: 'Or log in with a code sent by text message',
  orEmail: 'Or log in with a code sent by email',
  codeTitle: 'Verify your identity',
  codeSentTo: 'We have sent a code to',
  codeLabel: 'Enter the code',
  resendPrompt: 'Did not receive a code?',
  resend: 'Resend',
  resent: 'A new code has been sent.',
  otherIdentifier: 'Use another email address or phone number',
  linkTitle: 'Check your email',
  linkSentTo: 'We have sent a link to log in to',
  errorTitle: 'Something went wrong',
  redirecting: 'Finishing logging in…',
  submit: 'Continue',
  wrongEmailCode: 'Wrong email or verification code.',
  wrongPhoneCode: 'Wrong phone number or verification code.',
  expired: 'The verification code has expired. Please try to login again.',
  maxAttempts: "You've reached the maximum number of attempts. Please try to login again.",
  tooManyRequests: 'Too many requests. Wait a few minutes before trying again.',
  invalidEmail: 'Email is not valid.',
  invalidPhone: 'Phone number is not valid.',
  unavailable: 'The service is temporarily unavailable. Please try again later.',
  expiredRequest:
    'The login request has expired or was started in another browser. Go back to the application and try again.',
};

export type LoginTexts = typeof en;

const fr: LoginTexts = {
  title: 'Connexion',
  continueTo: 'pour continuer vers',
  emailLabel: 'Adresse e-mail',
  phoneLabel: 'Numéro de téléphone',
  phoneHint: 'Format international, commençant par + et l’indicatif du pays, par exemple +33 6 12 34 56 78.',
  continue: 'Continuer',
  sendLink: 'M’envoyer plutôt un lien par e-mail',
  orSms: 'Ou se connecter avec un code reçu par SMS',
  orEmail: 'Ou se connecter avec un code reçu par e-mail',
  codeTitle: 'Vérifiez votre identité',
  codeSentTo: 'Nous avons envoyé un code à',
  codeLabel: 'Saisissez le code',
  resendPrompt: 'Vous n’avez pas reçu de code ?',
  resend: 'Renvoyer',
  resent: 'Un nouveau code a été envoyé.',
  otherIdentifier: 'Utiliser une autre adresse e-mail ou un autre numéro',
  linkTitle: 'Consultez votre messagerie',
  linkSentTo: 'Nous avons envoyé un lien de connexion à',
  errorTitle: 'Une erreur est survenue',
  redirecting: 'Connexion en cours…',
  submit: 'Continuer',
  wrongEmailCode: 'Adresse e-mail ou code de vérification incorrect.',
  wrongPhoneCode: 'Numéro de téléphone ou code de vérification incorrect.',
  expired: 'Le code de vérification a expiré. Veuillez recommencer la connexion.',
  maxAttempts: 'Vous avez atteint le nombre maximal de tentatives. Veuillez recommencer la connexion.',
  tooManyRequests: 'Trop de demandes. Patientez quelques minutes avant de réessayer.',
  invalidEmail: 'L’adresse e-mail n’est pas valide.',
  invalidPhone: 'Le numéro de téléphone n’est pas valide.',
  unavailable: 'Le service est momentanément indisponible. Veuillez réessayer plus tard.',
  expiredRequest:
    'La demande de connexion a expiré ou a été commencée dans un autre navigateur. Revenez à l’application et réessayez.',
};

const TEXTS: Record<string, LoginTexts> = { en, fr };
export const LOCALES = Object.keys(TEXTS);

export const textsFor = (locale: string): LoginTexts => TEXTS[locale] ?? en;

/**
 * The page's language: the first of `ui_locales` (space-separated) that is shipped, else the best-ranked shipped one
 * of Accept-Language, else English. Only the primary subtag counts (fr-CA is French).
 */
export function pageLocale(uiLocales: string | undefined, acceptLanguage: string | undefined): string {
  const primary = (tag: string) => tag.trim().split('-')[0].toLowerCase();
  for (const tag of (uiLocales ?? '').split(' ')) if (LOCALES.includes(primary(tag))) return primary(tag);
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag, ...rest] = part.split(';');
      const q = Number(/q=([0-9.]+)/.exec(rest.join(';'))?.[1] ?? 1);
      return { tag: primary(tag), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.q > 0 && LOCALES.includes(entry.tag))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked[0]?.tag ?? 'en';
}
