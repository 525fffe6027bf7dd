/**
 * Built-in English templates, used for any field a connection does not override. Liquid, with Auth0's variables
 * (`send`, `code`, `link`, `application.name`, `request_language`).
 */
export const DEFAULT_TEMPLATES = {
  subject: `{% if send == 'code' %}Your verification code for {{ application.name }}{% else %}Sign in to {{ application.name }}{% endif %}`,
  text: `{% if send == 'code' %}Your verification code for {{ application.name }} is: {{ code }}
{% else %}Click the link below to sign in to {{ application.name }}:

{{ link }}
{% endif %}
It expires shortly and can be used only once. If you did not ask for it, you can ignore this message.
`,
  html: `<!doctype html>
<html lang="en"><body style="font-family: sans-serif; line-height: 1.5">
{% if send == 'code' %}<p>Your verification code for {{ application.name }} is:</p>
<p style="font-size: 24px; font-weight: bold; letter-spacing: 4px">{{ code }}</p>
{% else %}<p>Click the link below to sign in to {{ application.name }}:</p>
<p><a href="{{ link }}">Sign in to {{ application.name }}</a></p>
{% endif %}<p style="color: #666">It expires shortly and can be used only once. If you did not ask for it, you can ignore this message.</p>
</body></html>
`,
  sms: `{{ code }} is your verification code for {{ application.name }}.`,
} as const;

export type TemplateField = keyof typeof DEFAULT_TEMPLATES;
