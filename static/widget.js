/* Tandem webchat widget — see README "Embedding the widget".
   <script src="https://TANDEM/widget.js" data-workspace="WORKSPACE_ID" async></script>
   Calls made before it loads: window.Tandem = window.Tandem || {q: []};
   Tandem.q.push(["setUser", {id, hash}]); they run in order once it has loaded.
   No dependencies; its UI lives in a Shadow DOM; message text is only ever set as text.
   Files: the visitor attaches them (paperclip, drop, paste), each uploaded at once and sent
   with the next message; files on messages are fetched with the visitor token and shown
   through object URLs, which are let go when the panel closes.
   Help articles: while the visitor types, up to three published articles that may answer
   them show above the input; one opens inside the panel (its sanitized HTML, rebuilt here
   from an allowlist). Each article read is reported once, then what followed: "wrote" (a
   message was sent) or "left" (the chat was closed or the page hidden without writing). */
(() => {
  "use strict";
  const W = window;
  const D = document;
  const me = D.currentScript || D.querySelector("script[data-workspace]");
  if (!me || W.__tandemWidget) return;
  W.__tandemWidget = 1;
  const ws = me.dataset.workspace;
  const prechat = me.dataset.prechat === "true";
  const base = me.src.replace(/\/widget\.js([?#].*)?$/, "");
  const KEY = "tandem:" + ws + ":";
  const load = (k, d) => {
    try {
      const v = localStorage.getItem(KEY + k);
      return v == null ? d : JSON.parse(v);
    } catch (e) {
      return d;
    }
  };
  const save = (k, v) => {
    try {
      if (v == null) localStorage.removeItem(KEY + k);
      else localStorage.setItem(KEY + k, JSON.stringify(v));
    } catch (e) {
      /* storage off: the conversation lasts as long as the page */
    }
  };
  const uuid = () =>
    crypto.randomUUID
      ? crypto.randomUUID()
      : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
          (b + 256).toString(16).slice(1),
        ).join("");

  /* ---- words: every string the visitor sees, in each language the widget speaks ---- */
  const WORDS = {
    en: {
      open: "Open chat",
      close: "Close chat",
      minimize: "Minimize chat",
      chat: "Chat",
      offlineBar: "You're offline — messages will be sent when you're back.",
      offline: "Offline",
      connecting: "Connecting…",
      online: "We're online.",
      replyIn: "We usually reply in {0}.",
      yourName: "Your name",
      yourEmail: "Your email",
      emailExample: "you@example.com",
      leaveEmail: "Leave your email and we'll follow up there.",
      notify: "Notify me",
      before: "Before we start:",
      startChat: "Start chat",
      message: "Message",
      write: "Write a message…",
      send: "Send",
      filesToSend: "Files to send",
      filesToAttach: "Files to attach",
      attach: "Attach a file",
      mightHelp: "These might help",
      helpCenter: "Open in help center",
      article: "Help article",
      back: "Back",
      loading: "Loading…",
      articleFailed: "This article could not be shown: {0}",
      maxFiles: "At most {0} files a message.",
      uploading: "Uploading…",
      notAttached: "Not attached: {0}",
      remove: "Remove {0}",
      fileTooLarge: "too large: {0}, the limit is {1}",
      offlineAttach: "you're offline; attach it once you're back online.",
      notConnected: "the chat is not connected yet; try again in a moment.",
      uploadFailed: "the upload failed; check the connection.",
      gone: "it is no longer there",
      notKept: "{0} was not kept: {1}",
      fullSize: "{0} (opens full size)",
      noDownload: "{0} could not be downloaded: {1}",
      thatFile: "That file",
      sending: "Sending…",
      waiting: "Waiting for the connection…",
      notSent: "Not sent: {0}",
      tooLarge: "this message is too large.",
      tooLong: "this message is too long (10,000 characters at most).",
      tooFast: "You're sending messages too fast. We'll send the rest in a moment.",
      busy: "Many chats are starting right now. We'll try again in a moment.",
      thanks: "Thanks! If you leave, we'll reply to {0}.",
      failed: "That didn't work: {0}",
      support: "Support",
      typing: "{0} is typing…",
      seen: "Seen",
      bytes: "{0} bytes",
    },
    es: {
      open: "Abrir chat",
      close: "Cerrar chat",
      minimize: "Minimizar chat",
      chat: "Chat",
      offlineBar: "Estás sin conexión: los mensajes se enviarán cuando vuelvas.",
      offline: "Sin conexión",
      connecting: "Conectando…",
      online: "Estamos en línea.",
      replyIn: "Solemos responder en {0}.",
      yourName: "Tu nombre",
      yourEmail: "Tu correo electrónico",
      emailExample: "tu@ejemplo.com",
      leaveEmail: "Déjanos tu correo electrónico y te responderemos allí.",
      notify: "Avisarme",
      before: "Antes de empezar:",
      startChat: "Iniciar chat",
      message: "Mensaje",
      write: "Escribe un mensaje…",
      send: "Enviar",
      filesToSend: "Archivos para enviar",
      filesToAttach: "Archivos para adjuntar",
      attach: "Adjuntar un archivo",
      mightHelp: "Esto podría ayudarte",
      helpCenter: "Abrir en el centro de ayuda",
      article: "Artículo de ayuda",
      back: "Volver",
      loading: "Cargando…",
      articleFailed: "No se pudo mostrar este artículo: {0}",
      maxFiles: "Como máximo {0} archivos por mensaje.",
      uploading: "Subiendo…",
      notAttached: "No adjuntado: {0}",
      remove: "Quitar {0}",
      fileTooLarge: "demasiado grande: {0}, el límite es {1}",
      offlineAttach: "no tienes conexión; adjúntalo cuando vuelvas a estar en línea.",
      notConnected: "el chat aún no está conectado; inténtalo de nuevo en un momento.",
      uploadFailed: "la subida falló; comprueba la conexión.",
      gone: "ya no está disponible",
      notKept: "{0} no se guardó: {1}",
      fullSize: "{0} (se abre a tamaño completo)",
      noDownload: "No se pudo descargar {0}: {1}",
      thatFile: "ese archivo",
      sending: "Enviando…",
      waiting: "Esperando la conexión…",
      notSent: "No enviado: {0}",
      tooLarge: "este mensaje es demasiado grande.",
      tooLong: "este mensaje es demasiado largo (10.000 caracteres como máximo).",
      tooFast: "Estás enviando mensajes demasiado rápido. Enviaremos el resto en un momento.",
      busy: "Se están iniciando muchos chats ahora mismo. Lo volveremos a intentar en un momento.",
      thanks: "¡Gracias! Si te vas, te responderemos a {0}.",
      failed: "No funcionó: {0}",
      support: "Soporte",
      typing: "{0} está escribiendo…",
      seen: "Visto",
      bytes: "{0} bytes",
    },
    de: {
      open: "Chat öffnen",
      close: "Chat schließen",
      minimize: "Chat minimieren",
      chat: "Chat",
      offlineBar:
        "Sie sind offline – Nachrichten werden gesendet, sobald Sie wieder online sind.",
      offline: "Offline",
      connecting: "Verbindung wird hergestellt…",
      online: "Wir sind online.",
      replyIn: "Wir antworten normalerweise in {0}.",
      yourName: "Ihr Name",
      yourEmail: "Ihre E-Mail-Adresse",
      emailExample: "sie@beispiel.de",
      leaveEmail: "Hinterlassen Sie Ihre E-Mail-Adresse, dann antworten wir dort.",
      notify: "Benachrichtigen",
      before: "Bevor wir beginnen:",
      startChat: "Chat starten",
      message: "Nachricht",
      write: "Nachricht schreiben…",
      send: "Senden",
      filesToSend: "Zu sendende Dateien",
      filesToAttach: "Dateien zum Anhängen",
      attach: "Datei anhängen",
      mightHelp: "Das könnte helfen",
      helpCenter: "Im Hilfecenter öffnen",
      article: "Hilfeartikel",
      back: "Zurück",
      loading: "Wird geladen…",
      articleFailed: "Dieser Artikel konnte nicht angezeigt werden: {0}",
      maxFiles: "Höchstens {0} Dateien pro Nachricht.",
      uploading: "Wird hochgeladen…",
      notAttached: "Nicht angehängt: {0}",
      remove: "{0} entfernen",
      fileTooLarge: "zu groß: {0}, die Grenze liegt bei {1}",
      offlineAttach: "Sie sind offline; hängen Sie die Datei an, sobald Sie wieder online sind.",
      notConnected: "der Chat ist noch nicht verbunden; versuchen Sie es gleich noch einmal.",
      uploadFailed: "das Hochladen ist fehlgeschlagen; prüfen Sie die Verbindung.",
      gone: "sie ist nicht mehr vorhanden",
      notKept: "{0} wurde nicht gespeichert: {1}",
      fullSize: "{0} (öffnet in voller Größe)",
      noDownload: "{0} konnte nicht heruntergeladen werden: {1}",
      thatFile: "Diese Datei",
      sending: "Wird gesendet…",
      waiting: "Warte auf die Verbindung…",
      notSent: "Nicht gesendet: {0}",
      tooLarge: "diese Nachricht ist zu groß.",
      tooLong: "diese Nachricht ist zu lang (höchstens 10.000 Zeichen).",
      tooFast: "Sie senden Nachrichten zu schnell. Den Rest senden wir gleich.",
      busy: "Gerade beginnen sehr viele Chats. Wir versuchen es gleich noch einmal.",
      thanks: "Danke! Wenn Sie gehen, antworten wir an {0}.",
      failed: "Das hat nicht geklappt: {0}",
      support: "Support",
      typing: "{0} schreibt…",
      seen: "Gesehen",
      bytes: "{0} Bytes",
    },
    fr: {
      open: "Ouvrir le chat",
      close: "Fermer le chat",
      minimize: "Réduire le chat",
      chat: "Chat",
      offlineBar: "Vous êtes hors ligne — les messages seront envoyés à votre retour.",
      offline: "Hors ligne",
      connecting: "Connexion…",
      online: "Nous sommes en ligne.",
      replyIn: "Nous répondons généralement en {0}.",
      yourName: "Votre nom",
      yourEmail: "Votre adresse e-mail",
      emailExample: "vous@exemple.fr",
      leaveEmail: "Laissez votre adresse e-mail et nous vous répondrons par e-mail.",
      notify: "Me prévenir",
      before: "Avant de commencer :",
      startChat: "Démarrer le chat",
      message: "Message",
      write: "Écrivez un message…",
      send: "Envoyer",
      filesToSend: "Fichiers à envoyer",
      filesToAttach: "Fichiers à joindre",
      attach: "Joindre un fichier",
      mightHelp: "Ceci pourrait vous aider",
      helpCenter: "Ouvrir dans le centre d'aide",
      article: "Article d'aide",
      back: "Retour",
      loading: "Chargement…",
      articleFailed: "Impossible d'afficher cet article : {0}",
      maxFiles: "{0} fichiers au maximum par message.",
      uploading: "Envoi du fichier…",
      notAttached: "Non joint : {0}",
      remove: "Retirer {0}",
      fileTooLarge: "trop volumineux : {0}, la limite est de {1}",
      offlineAttach: "vous êtes hors ligne ; joignez-le une fois de retour en ligne.",
      notConnected: "le chat n'est pas encore connecté ; réessayez dans un instant.",
      uploadFailed: "l'envoi a échoué ; vérifiez la connexion.",
      gone: "il n'existe plus",
      notKept: "{0} n'a pas été conservé : {1}",
      fullSize: "{0} (s'ouvre en taille réelle)",
      noDownload: "Impossible de télécharger {0} : {1}",
      thatFile: "ce fichier",
      sending: "Envoi…",
      waiting: "En attente de la connexion…",
      notSent: "Non envoyé : {0}",
      tooLarge: "ce message est trop volumineux.",
      tooLong: "ce message est trop long (10 000 caractères au maximum).",
      tooFast: "Vous envoyez des messages trop vite. Nous enverrons la suite dans un instant.",
      busy: "Beaucoup de conversations commencent en ce moment. Nous réessaierons dans un instant.",
      thanks: "Merci ! Si vous partez, nous répondrons à {0}.",
      failed: "Cela n'a pas fonctionné : {0}",
      support: "Support",
      typing: "{0} est en train d'écrire…",
      seen: "Vu",
      bytes: "{0} octets",
    },
    pt: {
      open: "Abrir chat",
      close: "Fechar chat",
      minimize: "Minimizar chat",
      chat: "Chat",
      offlineBar: "Você está offline — as mensagens serão enviadas quando você voltar.",
      offline: "Offline",
      connecting: "Conectando…",
      online: "Estamos online.",
      replyIn: "Costumamos responder em {0}.",
      yourName: "Seu nome",
      yourEmail: "Seu e-mail",
      emailExample: "voce@exemplo.com",
      leaveEmail: "Deixe seu e-mail e responderemos por lá.",
      notify: "Avise-me",
      before: "Antes de começar:",
      startChat: "Iniciar chat",
      message: "Mensagem",
      write: "Escreva uma mensagem…",
      send: "Enviar",
      filesToSend: "Arquivos para enviar",
      filesToAttach: "Arquivos para anexar",
      attach: "Anexar um arquivo",
      mightHelp: "Isto pode ajudar",
      helpCenter: "Abrir na central de ajuda",
      article: "Artigo de ajuda",
      back: "Voltar",
      loading: "Carregando…",
      articleFailed: "Não foi possível mostrar este artigo: {0}",
      maxFiles: "No máximo {0} arquivos por mensagem.",
      uploading: "Enviando arquivo…",
      notAttached: "Não anexado: {0}",
      remove: "Remover {0}",
      fileTooLarge: "grande demais: {0}, o limite é {1}",
      offlineAttach: "você está offline; anexe quando estiver online de novo.",
      notConnected: "o chat ainda não está conectado; tente de novo em instantes.",
      uploadFailed: "o envio falhou; verifique a conexão.",
      gone: "ele não existe mais",
      notKept: "{0} não foi guardado: {1}",
      fullSize: "{0} (abre em tamanho real)",
      noDownload: "Não foi possível baixar {0}: {1}",
      thatFile: "esse arquivo",
      sending: "Enviando…",
      waiting: "Aguardando a conexão…",
      notSent: "Não enviado: {0}",
      tooLarge: "esta mensagem é grande demais.",
      tooLong: "esta mensagem é longa demais (no máximo 10.000 caracteres).",
      tooFast: "Você está enviando mensagens rápido demais. Enviaremos o resto em instantes.",
      busy: "Muitas conversas estão começando agora. Tentaremos de novo em instantes.",
      thanks: "Obrigado! Se você sair, responderemos para {0}.",
      failed: "Não funcionou: {0}",
      support: "Suporte",
      typing: "{0} está digitando…",
      seen: "Visto",
      bytes: "{0} bytes",
    },
  };
  /* The language: the host page's `data-locale`, else the first of the browser's languages
     the widget speaks, else English. TAG is the full tag it came from, for dates and times. */
  const [LANG, TAG] = (() => {
    for (const tag of [me.dataset.locale, ...(navigator.languages || [navigator.language])]) {
      const lang = String(tag || "").toLowerCase().split(/[-_]/)[0];
      if (WORDS[lang]) return [lang, tag];
    }
    return ["en", "en"];
  })();
  const t = (key, ...args) =>
    (WORDS[LANG][key] || WORDS.en[key]).replace(/\{(\d)\}/g, (_, i) => args[i]);
  const dates = (options) => {
    try {
      return new Intl.DateTimeFormat(TAG, options);
    } catch (e) {
      return new Intl.DateTimeFormat(LANG, options); // a tag Intl does not take
    }
  };
  const TIME = dates({ hour: "numeric", minute: "2-digit" });
  const DAY_TIME = dates({ month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
  const FULL = dates({ dateStyle: "full", timeStyle: "short" });

  let token = load("token");
  let outbox = load("outbox", []);
  let sess = null;
  let user = null;
  let contactId = null;
  let convId = null;
  let rules = newRules(); // event order: seq, prev, resume, resync (see sequencer below)
  let stale = true; // fetch the conversation once the next hello is acknowledged
  let sock = null;
  let topics = new Set();
  let gen = 0;
  let tries = 0;
  let retryT = 0;
  let pingT = 0;
  let flushT = 0;
  let typingT = 0;
  let typingAt = 0;
  let flushing = false;
  let again = false;
  let dead = false;
  let isOpen = false;
  let asked = false;
  let unread = 0;
  let lastAgent = null;
  let readSent = null;
  let attrs = {};
  let booting = true;
  let live = false; // the socket's hello was acknowledged: events arrive
  let seenTo = null; // the visitor's messages up to this id have been read by an agent
  const byKey = new Map(); // "i"+message id or "c"+client id → <li>
  const cbs = { message: [], unread: [], error: [] };
  const emit = (kind, v) =>
    cbs[kind].forEach((cb) => {
      try {
        cb(v);
      } catch (e) {
        console.error(e);
      }
    });

  /* ---- UI ---- */
  const el = (tag, props, ...kids) => {
    const e = D.createElement(tag);
    for (const k in props || {}) {
      const v = props[k];
      if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    e.append(...kids); // strings become text nodes
    return e;
  };
  const CSS = `.p,.l{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;--c:${
    /^#[0-9a-f]{3,8}$/i.test(me.dataset.color || "") ? me.dataset.color : "#2f6feb"
  }}
*{box-sizing:border-box;font:inherit}[hidden]{display:none!important}
.l{display:grid;place-items:center;margin-left:auto;position:relative;width:56px;height:56px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 4px 14px #0003}
.l svg{width:28px;height:28px;fill:currentColor}
.b{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#d1242f;color:#fff;font-size:12px;line-height:20px}
.p{position:absolute;right:0;bottom:68px;width:min(360px,calc(100vw - 40px));height:min(540px,calc(100vh - 110px));background:#fff;border-radius:14px;box-shadow:0 10px 40px #0004;display:flex;flex-direction:column;overflow:hidden}
header{display:flex;gap:8px;padding:14px 16px;background:var(--c);color:#fff}
header div{flex:1}header b{display:block;font-size:16px;font-weight:600}header small{font-size:12px;opacity:.9}
header button{background:none;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer}
.s,.n{padding:8px 12px;font-size:13px}.s{background:#fff8c5}.n{background:#ddf4ff}
ol{flex:1;overflow-y:auto;list-style:none;margin:0;padding:12px;display:flex;flex-direction:column;gap:8px}
li{max-width:80%;align-self:flex-start}li.in{align-self:flex-end}
li p{margin:0;padding:8px 12px;border-radius:12px;background:#f0f2f5;white-space:pre-wrap;overflow-wrap:anywhere}
li.in p{background:var(--c);color:#fff}li.q p{opacity:.7}
li small{display:block;margin:2px 4px;font-size:11px;color:#656d76}li.in small{text-align:right}li.x small{color:#d1242f}
time:not([hidden])+span:not(:empty)::before{content:" · "}
.t{padding:0 14px 6px;font-size:12px;font-style:italic;color:#656d76}
form{display:flex;flex-wrap:wrap;gap:6px;padding:10px;border-top:1px solid #d0d7de}form p{width:100%;margin:0;font-size:13px}
form.v{flex-direction:column;flex-wrap:nowrap;gap:8px}form.v label{display:flex;flex-direction:column;gap:3px;font-size:13px;font-weight:600}form.v input{flex:none;width:100%;font-weight:400}
@media (max-width:480px){textarea,input{font-size:16px}}
textarea,input{flex:1;min-width:0;padding:8px;border:1px solid #d0d7de;border-radius:8px;resize:none}
form button{padding:8px 14px;border:0;border-radius:8px;background:var(--c);color:#fff;cursor:pointer}
form .a{padding:6px;background:none;color:#1f2328}.a svg{display:block;width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round}
form.d{outline:2px dashed var(--c);outline-offset:-4px}
.fs{display:flex;flex-direction:column;align-items:flex-start;gap:4px;margin-top:4px}li.in .fs{align-items:flex-end}
.fs a{display:block;color:#1f2328;overflow-wrap:anywhere}.fs img{display:block;max-width:100%;max-height:200px;min-width:48px;min-height:48px;border-radius:10px;background:#f0f2f5;object-fit:contain}
.fs span{font-size:12px;font-style:italic;color:#656d76;overflow-wrap:anywhere}
ul.f{width:100%;list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px}
.f li{max-width:100%;display:flex;align-items:center;gap:6px;padding:2px 2px 2px 10px;border:1px solid #d0d7de;border-radius:14px;font-size:12px}
.f li span{flex:none;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:150px;font-weight:600}
.f li small{flex:1 1 auto;min-width:0;margin:0;font-size:12px;color:#656d76;overflow-wrap:anywhere}.f li.bad{border-color:#d1242f;background:#ffebe9}.f li.bad small{color:#82071e}
.f button{flex:none;padding:0 6px;background:none;color:#1f2328;font-size:16px;line-height:1}
.k{width:100%;min-width:0}.k p{color:#656d76;font-size:12px}
.k ul{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:4px}.k li{max-width:none;min-width:0;align-self:stretch}
.k button{display:block;width:100%;overflow:hidden;padding:6px 10px;border:1px solid #d0d7de;border-radius:8px;background:#fff;color:#1f2328;text-align:left}
.k button:hover,.k button:focus-visible{border-color:var(--c)}
.k b{display:block;font-weight:600;font-size:13px}
.k small{display:block;margin:0;color:#656d76;font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.r>ol,.r>.t,.r .k{display:none!important}
.ar{flex:1;overflow-y:auto;padding:12px 16px;overflow-wrap:anywhere}
.ar>button{padding:4px 10px;border:1px solid #d0d7de;border-radius:8px;background:#fff;color:#1f2328;cursor:pointer}
.ar h2{margin:12px 0 8px;font-size:17px;font-weight:600;outline:0}
.ar>a{display:inline-block;margin:8px 0 4px;color:var(--c)}
.ab p,.ab pre,.ab blockquote,.ab table,.ab ul,.ab ol{margin:0 0 10px}
.ab h1,.ab h2,.ab h3,.ab h4,.ab h5,.ab h6{margin:14px 0 6px;font-weight:600}.ab h1,.ab h2{font-size:16px}
.ab strong{font-weight:600}.ab em{font-style:italic}.ab del,.ab s{text-decoration:line-through}.ab a{color:var(--c)}
.ab ul,.ab ol{display:block;overflow:visible;padding:0 0 0 22px;list-style:revert}
.ab li{max-width:none}.ab li p{padding:0;background:none;border-radius:0;white-space:normal}
.ab code,.ab pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
.ab pre{overflow:auto;padding:8px;border-radius:6px;background:#f0f2f5}
.ab img{max-width:100%;height:auto}.ab hr{border:0;border-top:1px solid #d0d7de}
.ab blockquote{padding-left:10px;border-left:3px solid #d0d7de;color:#57606a}
.ab table{border-collapse:collapse}.ab td,.ab th{padding:2px 6px;border:1px solid #d0d7de}
.am{color:#656d76;font-style:italic}`;

  // Inline and !important: the host page's own rules cannot move or hide the widget.
  const host = el("tandem-chat", {
    lang: LANG,
    style:
      "all:initial!important;display:block!important;position:fixed!important;right:20px!important;bottom:20px!important;z-index:2147483000!important",
  });
  const root = host.attachShadow({ mode: "open" });
  const badge = el("span", { class: "b", hidden: "" });
  const launcher = el("button", {
    class: "l",
    type: "button",
    "aria-label": t("open"),
    onclick: () => T.toggle(),
  });
  launcher.innerHTML =
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  launcher.append(badge);
  const title = el("b", { text: t("chat") });
  const sub = el("small");
  const bar = el("div", { class: "s", role: "status", hidden: "" }, t("offlineBar"));
  const notice = el("div", { class: "n", role: "status", hidden: "" });
  const list = el("ol", { "aria-live": "polite" });
  const typing = el("div", { class: "t", hidden: "" });
  // Stacked, each field under its visible label: it fits a 320 px wide phone.
  const field = (label, input) => el("label", {}, el("span", { text: label }), input);
  const emailInput = () =>
    el("input", {
      type: "email",
      required: "",
      autocomplete: "email",
      placeholder: t("emailExample"),
    });
  const email = emailInput();
  const away = el(
    "form",
    { class: "v", hidden: "", onsubmit: (e) => profile(e, { email: email.value }) },
    el("p", { text: t("leaveEmail") }),
    field(t("yourEmail"), email),
    el("button", { text: t("notify") }),
  );
  const pName = el("input", { required: "", autocomplete: "name" });
  const pEmail = emailInput();
  const pre = el(
    "form",
    {
      class: "v",
      hidden: "",
      onsubmit: (e) => profile(e, { name: pName.value, email: pEmail.value }),
    },
    el("p", { text: t("before") }),
    field(t("yourName"), pName),
    field(t("yourEmail"), pEmail),
    el("button", { text: t("startChat") }),
  );
  const box = el("textarea", {
    rows: "2",
    placeholder: t("write"),
    "aria-label": t("message"),
  });
  const chips = el("ul", { class: "f", "aria-label": t("filesToSend"), hidden: "" });
  const fileInput = el("input", {
    type: "file",
    multiple: "",
    hidden: "",
    tabindex: "-1",
    "aria-label": t("filesToAttach"),
    onchange: () => {
      pick([...fileInput.files]);
      fileInput.value = "";
    },
  });
  const attach = el("button", {
    type: "button",
    class: "a",
    "aria-label": t("attach"),
    title: t("attach"),
    onclick: () => fileInput.click(),
  });
  attach.innerHTML =
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l8-8"/></svg>';
  const sendButton = el("button", { text: t("send") });
  const hint = el("ul");
  const hints = el(
    "div",
    { class: "k", role: "region", "aria-label": t("mightHelp"), hidden: "" },
    el("p", { text: t("mightHelp") }),
    hint,
  );
  let waiting = false; // Send was pressed while a file was still uploading
  const composer = el(
    "form",
    {
      onsubmit: async (e) => {
        e.preventDefault();
        if (waiting) return;
        if (picks.some((p) => p.state === "up")) {
          waiting = true;
          sendButton.disabled = true;
          await Promise.all(picks.map((p) => p.done));
          sendButton.disabled = waiting = false;
        }
        send(box.value);
        box.value = "";
        showHints([]);
      },
    },
    hints,
    chips,
    fileInput,
    attach,
    box,
    sendButton,
  );
  const artTitle = el("h2", { tabindex: "-1" });
  const artBody = el("div", { class: "ab" });
  const artLink = el("a", { target: "_blank", rel: "noopener", text: t("helpCenter") });
  const art = el(
    "section",
    { class: "ar", "aria-label": t("article"), hidden: "" },
    el(
      "button",
      { type: "button", onclick: () => back(1) },
      el("span", { "aria-hidden": "true", text: "← " }),
      t("back"),
    ),
    artTitle,
    artBody,
    artLink,
  );
  const panel = el(
    "div",
    { class: "p", role: "dialog", "aria-label": t("chat"), lang: LANG, hidden: "" },
    el(
      "header",
      {},
      el("div", {}, title, sub),
      el("button", {
        type: "button",
        "aria-label": t("minimize"),
        text: "×",
        onclick: () => T.close(),
      }),
    ),
    bar,
    notice,
    list,
    art,
    typing,
    away,
    pre,
    composer,
  );
  root.append(el("style", { text: CSS }), panel, launcher);

  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      composer.requestSubmit();
    }
  });
  box.addEventListener("paste", (e) => {
    const files = [...((e.clipboardData && e.clipboardData.files) || [])];
    if (!files.length) return;
    if (!e.clipboardData.getData("text/plain")) e.preventDefault();
    pick(files);
  });
  const dragged = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  ["dragenter", "dragover"].forEach((type) =>
    composer.addEventListener(type, (e) => {
      if (!dragged(e)) return;
      e.preventDefault();
      composer.classList.add("d");
    }),
  );
  composer.addEventListener("dragleave", (e) => {
    if (!composer.contains(e.relatedTarget)) composer.classList.remove("d");
  });
  composer.addEventListener("drop", (e) => {
    composer.classList.remove("d");
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    pick([...e.dataTransfer.files]);
  });
  box.addEventListener("input", () => {
    clearTimeout(hintT);
    hintT = setTimeout(suggest, 300);
    const now = Date.now();
    if (convId && box.value && now - typingAt > 3000) {
      typingAt = now;
      tx({ type: "typing", ticket: convId, on: true });
    }
  });

  // Esc: out of an article first, then the panel closes and focus goes back to the launcher.
  root.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || e.isComposing || !isOpen) return;
    e.preventDefault();
    e.stopPropagation();
    if (reading) back(1);
    else T.close();
  });

  const note = (text) => {
    notice.textContent = text;
    notice.hidden = !text;
  };
  const seen = () => isOpen && D.visibilityState === "visible";
  const scroll = () => {
    list.scrollTop = list.scrollHeight;
  };
  const setUnread = (n) => {
    if (n === unread) return;
    unread = n;
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.hidden = !n;
    emit("unread", n);
  };
  const typingOff = () => {
    clearTimeout(typingT);
    typing.hidden = true;
  };
  /* The status line says what is so: offline, connecting (no live socket yet, so agents' replies
     would not show), or whether an agent is online. */
  function header() {
    sub.textContent = !navigator.onLine
      ? t("offline")
      : !sess || !live
        ? t("connecting")
        : sess.agents_online
          ? t("online")
          : t("replyIn", sess.reply_time);
    if (!sess) return;
    const v = sess.visitor;
    title.textContent = sess.greeting;
    pre.hidden = !(prechat && !asked && !v.email && !convId && !v.verified);
    away.hidden = sess.agents_online || asked || !!v.email || !pre.hidden;
    composer.hidden = !pre.hidden;
  }

  /* ---- files: picked for the next message, and shown on messages ---- */
  const MAX_FILE = 25 * 1024 * 1024;
  const MAX_FILES = 10;
  const mb = (n, up) => {
    const t = (n / 1048576) * 10;
    const r = (up ? Math.ceil(t) : Math.round(t)) / 10;
    return (r % 1 ? r.toFixed(1) : r.toFixed(0)) + " MB";
  };
  const size = (n) =>
    n < 1024 ? t("bytes", n) : n < 1048576 ? Math.max(1, Math.round(n / 1024)) + " KB" : mb(n);
  let picks = []; // {name, size, state: "up" | "ok" | "x", att, error, done}
  const local = new Map(); // file id → the Blob this visitor picked: shown without a download
  const imgs = new Set(); // <img> of files on messages; each holds an object URL while open
  function pick(files) {
    for (const file of files) {
      if (picks.filter((p) => p.state !== "x").length >= MAX_FILES) {
        note(t("maxFiles", MAX_FILES));
        break;
      }
      const p = { name: file.name || "attachment", size: file.size, state: "up" };
      picks.push(p);
      p.done = uploadFile(file)
        .then(
          (att) => {
            p.state = "ok";
            p.att = att;
          },
          (x) => {
            p.state = "x";
            p.error = x.message;
          },
        )
        .then(drawPicks);
    }
    drawPicks();
  }
  function drawPicks() {
    chips.textContent = "";
    picks.forEach((p) => {
      const bad = p.state === "x";
      chips.append(
        el(
          "li",
          bad ? { class: "bad" } : {},
          el("span", { text: p.name }),
          el(
            "small",
            bad ? { role: "alert" } : {},
            p.state === "up" ? t("uploading") : bad ? t("notAttached", p.error) : size(p.size),
          ),
          el("button", {
            type: "button",
            "aria-label": t("remove", p.name),
            text: "×",
            onclick: () => {
              picks = picks.filter((q) => q !== p);
              drawPicks();
              box.focus();
            },
          }),
        ),
      );
    });
    chips.hidden = !picks.length;
  }
  async function uploadFile(file, again) {
    if (file.size > MAX_FILE) {
      throw new Error(t("fileTooLarge", mb(file.size, 1), mb(MAX_FILE)));
    }
    if (!navigator.onLine) throw new Error(t("offlineAttach"));
    if (!token) await (booting ? boot : start());
    if (!token) throw new Error(t("notConnected"));
    const name = file.name || "attachment";
    let r;
    try {
      r = await fetch(base + "/api/v1/widget/attachments?filename=" + encodeURIComponent(name), {
        method: "POST",
        headers: {
          authorization: "Bearer " + token,
          "content-type": file.type || "application/octet-stream",
        },
        body: file,
        credentials: "omit",
      });
    } catch (x) {
      throw new Error(t("uploadFailed"));
    }
    const j = await r.json().catch(() => ({}));
    if (r.status === 401 && !again) {
      await start();
      return uploadFile(file, 1);
    }
    if (!r.ok) {
      const m = (j.error && j.error.message) || "HTTP " + r.status;
      const over = r.status === 413 && /over the (\d+)-byte limit/.exec(m);
      throw new Error(over ? t("fileTooLarge", mb(file.size, 1), mb(+over[1])) : m);
    }
    local.set(j.id, file);
    return j;
  }
  async function blobOf(id) {
    if (local.has(id)) return local.get(id);
    const r = await fetch(base + "/api/v1/widget/attachments/" + encodeURIComponent(id), {
      headers: { authorization: "Bearer " + token },
      credentials: "omit",
    });
    if (!r.ok) throw new Error(r.status === 404 ? t("gone") : "HTTP " + r.status);
    return r.blob();
  }
  /* A message's files: pictures in the bubble, other files as links that download. */
  function files(atts) {
    const wrap = el("div", { class: "fs" });
    atts.forEach((a) => {
      const name = a.filename || "attachment";
      if (a.refused) wrap.append(el("span", { text: t("notKept", name, a.refused) }));
      else if (!a.id) wrap.append(el("span", { text: name + " · " + size(a.size) }));
      else if (a.inline) {
        const img = el("img", { alt: name });
        img._id = a.id;
        img.onload = () => {
          if (list.scrollHeight - list.scrollTop - list.clientHeight - img.offsetHeight < 80) scroll();
        };
        imgs.add(img);
        wrap.append(el("a", { target: "_blank", "aria-label": t("fullSize", name) }, img));
      } else {
        wrap.append(
          el("a", {
            href: "#",
            text: name + " · " + size(a.size),
            onclick: (e) => {
              e.preventDefault();
              download(a);
            },
          }),
        );
      }
    });
    return wrap;
  }
  function showImages() {
    if (!isOpen) return;
    imgs.forEach((img) => {
      if (img._url || img._loading) return;
      img._loading = 1;
      blobOf(img._id).then(
        (b) => {
          img._loading = 0;
          if (!isOpen || !imgs.has(img)) return;
          img._url = URL.createObjectURL(b);
          img.src = img.parentNode.href = img._url;
        },
        () => {
          img._loading = 0;
        },
      );
    });
  }
  function hideImages() {
    imgs.forEach((img) => {
      if (img._url) URL.revokeObjectURL(img._url);
      img._url = null;
      img.removeAttribute("src");
      img.parentNode.removeAttribute("href");
    });
  }
  async function download(a) {
    try {
      const url = URL.createObjectURL(await blobOf(a.id));
      const link = el("a", { href: url, download: a.filename || "attachment", hidden: "" });
      root.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (x) {
      note(t("noDownload", a.filename || t("thatFile"), x.message));
    }
  }

  /* ---- help articles: suggested while typing, read inside the panel ---- */
  let hintT = 0;
  let asking = ""; // the text suggestions were last asked for
  let hintSeq = 0; // answers to an older text are dropped
  let reading = null; // the id of the article shown
  let artSeq = 0;
  const pending = new Set(); // articles read since the visitor last wrote or left
  const enc = encodeURIComponent;
  async function pub(path) {
    const r = await fetch(base + "/api/v1/widget" + path, { credentials: "omit" });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((j.error && j.error.message) || "HTTP " + r.status);
    return j;
  }
  async function suggest() {
    const q = box.value.trim().replace(/\s+/g, " ").slice(0, 200);
    if (q.length < 3) return showHints([]);
    if (q === asking) return;
    asking = q;
    const n = ++hintSeq;
    try {
      const j = await pub("/kb/search?workspace=" + enc(ws) + "&q=" + enc(q) + "&limit=3");
      if (n === hintSeq) showHints(j.items || [], q);
    } catch (x) {
      if (n === hintSeq) showHints([]); // none this time; the next change asks again
    }
  }
  function showHints(items, q) {
    if (!q) {
      clearTimeout(hintT);
      asking = "";
      hintSeq++;
    }
    hint.textContent = "";
    items.slice(0, 3).forEach((a) =>
      hint.append(
        el(
          "li",
          {},
          el(
            "button",
            { type: "button", onclick: () => openArticle(a) },
            el("b", { text: a.title }),
            el("small", { text: a.snippet || "" }),
          ),
        ),
      ),
    );
    hints.hidden = !hint.childNodes.length;
  }
  async function openArticle(a) {
    const n = ++artSeq;
    reading = a.id;
    artTitle.textContent = a.title;
    artBody.textContent = "";
    artBody.append(el("p", { class: "am", role: "status", text: t("loading") }));
    if (/^https?:/i.test(a.url || "")) artLink.href = a.url;
    panel.classList.add("r");
    art.hidden = false;
    art.scrollTop = 0;
    artTitle.focus();
    try {
      const j = await pub("/kb/articles/" + enc(a.id) + "?workspace=" + enc(ws));
      if (n !== artSeq) return;
      artTitle.textContent = j.title;
      artBody.textContent = "";
      artBody.append(articleNodes(j.html || ""));
      if (/^https?:/i.test(j.url || "")) artLink.href = j.url;
      if (!pending.has(j.id)) {
        pending.add(j.id);
        report(j.id, "read");
      }
    } catch (x) {
      if (n !== artSeq) return;
      artBody.textContent = "";
      artBody.append(el("p", { class: "am", text: t("articleFailed", x.message) }));
    }
  }
  function back(focus) {
    if (!reading) return;
    artSeq++;
    reading = null;
    art.hidden = true;
    panel.classList.remove("r");
    artBody.textContent = "";
    scroll();
    if (focus) box.focus();
  }
  /* The server sends sanitized HTML; it is still parsed inert (DOMParser runs and loads
     nothing) and rebuilt here from an allowlist of elements and attributes, so nothing in it
     can run script on the host page. */
  const ARTICLE_TAGS = new Set(
    (
      "A BLOCKQUOTE BR CODE DEL EM H1 H2 H3 H4 H5 H6 HR IMG LI OL P PRE S STRONG TABLE TBODY TD " +
      "TH THEAD TR UL"
    ).split(" "),
  );
  const ARTICLE_ATTRS = { A: ["href", "title"], IMG: ["src", "alt", "title"], OL: ["start"] };
  const DROPPED = new Set(
    ["SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "OBJECT", "EMBED", "SVG", "MATH"],
  );
  function articleNodes(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const out = D.createDocumentFragment();
    const copy = (from, to) =>
      from.childNodes.forEach((n) => {
        if (n.nodeType === 3) return void to.append(n.data);
        if (n.nodeType !== 1 || DROPPED.has(n.tagName.toUpperCase())) return;
        if (!ARTICLE_TAGS.has(n.tagName)) return void copy(n, to);
        const e = D.createElement(n.tagName.toLowerCase());
        (ARTICLE_ATTRS[n.tagName] || []).forEach((k) => {
          let v = n.getAttribute(k);
          if (v == null) return;
          if (k === "href" || k === "src") {
            try {
              const u = new URL(v, base + "/");
              if (!/^(https?|mailto):$/.test(u.protocol)) return;
              v = u.href;
            } catch (x) {
              return;
            }
          }
          e.setAttribute(k, v);
        });
        if (e.tagName === "A") {
          e.target = "_blank";
          e.rel = "noopener noreferrer";
        }
        copy(n, e);
        to.append(e);
      });
    copy(doc.body, out);
    return out;
  }
  /* Sent as text/plain, a request without a preflight: with sendBeacon it still goes out
     while the page is going away. */
  function report(id, outcome, beacon) {
    const url = base + "/api/v1/widget/kb/deflection";
    const body = JSON.stringify({ workspace: ws, article_id: id, outcome });
    try {
      if (beacon && navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    } catch (x) {
      /* then as a fetch */
    }
    fetch(url, { method: "POST", body, keepalive: true, credentials: "omit" }).catch(() => {});
  }
  function settle(outcome, beacon) {
    pending.forEach((id) => report(id, outcome, beacon));
    pending.clear();
  }

  /* ---- messages: each shown once, whichever of the POST answer, the live event and a refetch
     comes first (matched by message id and by client id) ---- */
  /* Under each message: its time (short; the full date and time on hover) and, on the
     visitor's own, how it stands: sending, not sent, or seen by an agent. */
  function status(li, text, failed) {
    li.lastChild.lastChild.textContent = text;
    li.classList.toggle("x", !!failed);
  }
  function meta() {
    return el("small", {}, el("time", { hidden: "" }), el("span"));
  }
  function when(li, iso) {
    const at = new Date(iso || NaN);
    if (isNaN(at)) return;
    const stamp = li.lastChild.firstChild;
    stamp.dateTime = at.toISOString();
    stamp.title = FULL.format(at);
    const today = at.toDateString() === new Date().toDateString();
    stamp.textContent = (today ? TIME : DAY_TIME).format(at);
    stamp.hidden = false;
  }
  /* An agent has read the visitor's messages up to `id`: an agent's reply (they answered with
     the thread in front of them) or an agent's read receipt says so. */
  function seenUpTo(id) {
    if (!id || (seenTo && id <= seenTo)) return;
    seenTo = id;
    list.querySelectorAll("li.in").forEach((li) => {
      if (li._id && li._id <= seenTo) status(li, t("seen"));
    });
  }
  function pend(o) {
    let li = byKey.get("c" + o.client_id);
    if (!li) {
      li = el("li", { class: "in q" });
      if (o.text) li.append(el("p", { text: o.text }));
      if (o.files && o.files.length) li.append(files(o.files));
      li.append(meta());
      byKey.set("c" + o.client_id, li);
      showImages();
    }
    list.append(li); // queued ones stay last
    status(li, t(navigator.onLine ? "sending" : "waiting"));
    scroll();
  }
  function unqueue(cid) {
    if (!cid || !outbox.some((o) => o.client_id === cid)) return;
    outbox = outbox.filter((o) => o.client_id !== cid);
    save("outbox", outbox);
  }
  function add(raw, live) {
    if (raw.kind && raw.kind !== "message") return;
    const m = {
      id: raw.id,
      client_id: raw.client_id || null,
      conversation_id: raw.conversation_id || raw.ticket_id,
      direction: raw.direction,
      author_name: raw.author_name || (raw.author && raw.author.name) || null,
      text: raw.text,
      created_at: raw.created_at,
      attachments: raw.attachments || [],
    };
    const out = m.direction === "out";
    let li = byKey.get("i" + m.id) || (m.client_id && byKey.get("c" + m.client_id));
    const fresh = !li;
    if (fresh) {
      li = el("li", { class: out ? "out" : "in" });
      if (out) li.append(el("small", { text: m.author_name || t("support") }));
      if (m.text || !m.attachments.length) li.append(el("p", { text: m.text }));
      if (m.attachments.length) li.append(files(m.attachments));
      li.append(meta());
      list.insertBefore(li, list.querySelector("li.q"));
      showImages();
    } else if (li.classList.contains("q")) {
      li.classList.remove("q");
      list.insertBefore(li, list.querySelector("li.q"));
    }
    if (!fresh && m.attachments.length && !li.querySelector(".fs")) {
      li.insertBefore(files(m.attachments), li.lastChild);
      showImages();
    }
    byKey.set("i" + m.id, li);
    if (m.client_id) byKey.set("c" + m.client_id, li);
    li._id = m.id;
    when(li, m.created_at);
    if (!out) status(li, seenTo && m.id <= seenTo ? t("seen") : "");
    unqueue(m.client_id);
    if (out) {
      if (!lastAgent || m.id > lastAgent) lastAgent = m.id;
      if (fresh && (live || raw.status !== "read") && !seen()) setUnread(unread + 1);
      if (fresh && live) {
        typingOff();
        emit("message", m);
      }
    }
    scroll();
  }
  function markRead() {
    if (!seen()) return;
    setUnread(0);
    if (lastAgent && lastAgent !== readSent && token) {
      const id = (readSent = lastAgent);
      api("POST", "/read", { up_to: id }).catch(() => {
        if (readSent === id) readSent = null;
      });
    }
  }
  function send(text) {
    text = text.trim();
    const ready = picks.filter((p) => p.state === "ok");
    if ((!text && !ready.length) || dead) return;
    settle("wrote");
    if (typingAt && convId) tx({ type: "typing", ticket: convId, on: false });
    typingAt = 0;
    const o = { client_id: uuid(), text };
    // Files uploaded already: the message with their ids waits in the outbox like any other.
    if (ready.length) o.files = ready.map((p) => p.att);
    picks = [];
    drawPicks();
    outbox.push(o);
    save("outbox", outbox);
    pend(o);
    flush();
  }

  /* ---- HTTP ---- */
  async function api(method, path, body) {
    const headers = { "content-type": "application/json" };
    if (token && path !== "/session") headers.authorization = "Bearer " + token;
    const r = await fetch(base + "/api/v1/widget" + path, {
      method,
      headers,
      body: body && JSON.stringify(body),
      credentials: "omit",
    });
    const j = r.status === 204 ? {} : await r.json().catch(() => ({}));
    if (!r.ok) {
      const e = new Error((j.error && j.error.message) || "HTTP " + r.status);
      e.status = r.status;
      e.code = (j.error && j.error.code) || "http_" + r.status;
      // A 429 says how long to wait in its body (a cross-origin page cannot read Retry-After).
      e.wait = Number((j.error && j.error.details && j.error.details.retry_after) || 0) * 1000;
      throw e;
    }
    return j;
  }
  async function flush() {
    if (flushing) return void (again = true);
    if (!token || !navigator.onLine) return;
    flushing = true;
    clearTimeout(flushT);
    try {
      while (outbox.length) {
        const o = outbox[0];
        let m;
        try {
          const body = { text: o.text, client_id: o.client_id };
          if (o.files && o.files.length) body.attachments = o.files.map((f) => f.id);
          m = await api("POST", "/messages", body);
        } catch (e) {
          if (e.status === 413 || e.status === 422) {
            unqueue(o.client_id);
            const li = byKey.get("c" + o.client_id);
            if (li) {
              li.classList.remove("q");
              const why =
                e.status === 413 ? t("tooLarge") : o.text.length > 1e4 ? t("tooLong") : e.message;
              status(li, t("notSent", why), 1);
            }
            continue;
          }
          if (e.status === 429) {
            // Too many messages from this visitor, or too many new chats from this network or
            // for this site: the messages stay queued and go once the wait is over.
            note(t(e.code === "rate_limited" ? "tooFast" : "busy"));
            flushT = setTimeout(flush, Math.max(15000, e.wait || 0));
          } else if (e.status === 401) {
            start();
          } else if (e.status !== 403) {
            outbox.forEach(pend);
            flushT = setTimeout(flush, 2000 + Math.random() * 3000);
          }
          break;
        }
        note("");
        add(m);
        if (m.conversation_id !== convId) {
          convId = m.conversation_id;
          header();
          subscribe();
        }
      }
    } finally {
      flushing = false;
      if (again) {
        again = false;
        flush();
      }
    }
  }
  async function fetchConversation() {
    const c = await api("GET", "/conversation");
    convId = c.conversation_id;
    c.messages.forEach((m) => add(m));
    seenUpTo(c.seen_up_to);
    outbox.forEach(pend);
    sess.agents_online = c.agents_online;
    header();
    subscribe();
    markRead();
    return c.seq;
  }
  /* Whether someone is online changes while the panel is open: ask now and then. */
  async function refreshStatus() {
    if (!token || !sess || !navigator.onLine) return;
    try {
      const s = await api("GET", "/status");
      sess.agents_online = s.agents_online;
      sess.reply_time = s.reply_time;
      header();
    } catch (x) {
      /* the next look, or the next session, tells */
    }
  }
  setInterval(() => isOpen && refreshStatus(), 60000);
  async function profile(e, body) {
    e.preventDefault();
    try {
      const v = await api("POST", "/profile", body);
      sess.visitor = v;
      asked = true;
      header();
      note(t("thanks", body.email));
      box.focus();
    } catch (x) {
      note(t("failed", x.message));
    }
  }
  function sendAttributes() {
    const a = attrs;
    if (!sess || !Object.keys(a).length) return Promise.resolve();
    attrs = {};
    return api("POST", "/profile", { attributes: a }).catch((x) => {
      if (!x.status) attrs = Object.assign(a, attrs);
      emit("error", { code: x.code || "network", message: x.message });
    });
  }

  /* ---- the session and the live socket ---- */
  /* The live protocol's client rules (README "Real time": Client rules, Consistent start). The
     agent app's static/app/seqrules.js is the same code, and tests/protocol/cases.json runs
     against both; a classic script cannot import that module, hence this copy. apply(event):
     in seq order, each once; send(frame): a resume; refetch(): after a resync, a promise of the
     refetched state's seq; last: the resume point (null: take the hello ack's seq). */
  function sequencer({ apply, send, refetch }, last = null) {
    let resuming = false; // a resume is on its way: further gaps are the same gap
    let holds = 0;
    let floor = 0; // parked events at or below it are in the fetched state already
    let parked = [];
    const r = {
      get last() {
        return last;
      },
      hello(fields = {}) {
        resuming = false; // a resume sent on the old socket died with it
        const hello = { type: "hello", ...fields };
        if (last !== null) hello.since = last;
        return hello;
      },
      receive(f) {
        if (f.type === "ack") {
          if (f.for === "hello" && last === null && typeof f.seq === "number") last = f.seq;
          if (f.for === "hello" || f.for === "resume") resuming = false;
        } else if (f.type === "event") {
          const e = f.event;
          const known = last === null ? e.seq - 1 : last;
          if (e.seq <= known) return; // a duplicate: a replay overlapping what came
          if ((typeof f.prev === "number" ? f.prev : e.seq - 1) > known) {
            // A gap: ask for what is missing, once; the replay brings this one too.
            if (!resuming) send({ type: "resume", since: known });
            resuming = true;
            return;
          }
          last = e.seq;
          if (holds) parked.push(e);
          else apply(e);
        } else if (f.type === "resync") {
          // What was missed is older than the replay log: refetch, continue from f.seq.
          last = f.seq;
          resuming = false;
          r.hold();
          Promise.resolve()
            .then(refetch)
            .then(
              (seq) => r.release(Math.max(f.seq, typeof seq === "number" ? seq : 0)),
              () => r.release(f.seq),
            );
        }
      },
      resume() {
        if (last === null) return;
        resuming = true;
        send({ type: "resume", since: last });
      },
      hold() {
        holds++;
      },
      release(seq) {
        const w = typeof seq === "number" ? seq : 0;
        floor = Math.max(floor, w);
        last = Math.max(last === null ? 0 : last, w);
        holds = Math.max(0, holds - 1);
        if (holds) return;
        const out = parked;
        parked = [];
        out.forEach((e) => e.seq > floor && apply(e));
      },
    };
    return r;
  }
  function newRules() {
    return sequencer({
      apply: onEvent,
      send: tx,
      refetch: () =>
        fetchConversation().catch((x) => {
          stale = true;
          retry();
          throw x;
        }),
    });
  }
  /* Consistent start: subscribed by the hello first, then the conversation is read; events
     that came meanwhile apply only if newer than the seq it was read at. */
  function fetchSubscribed() {
    const r = rules;
    stale = false;
    r.hold();
    fetchConversation().then(
      (seq) => {
        r.release(seq);
        flush(); // after the thread, so queued messages show below it
      },
      (x) => {
        stale = true;
        r.release(null);
        if (x.status === 403 || x.status === 404 || x.status === 422) fatal(x);
        else retry();
      },
    );
  }
  /* The site is set up wrongly (its origin is not allowed, no such workspace): that is for the
     site's developer, not its shoppers, so the widget leaves the page and says why in the
     console. */
  function fatal(x) {
    dead = true;
    drop();
    host.remove();
    console.error(
      "Tandem chat is not shown on " +
        location.origin +
        ": " +
        x.message +
        " (" +
        x.code +
        ")." +
        (x.code === "origin_not_allowed"
          ? " A workspace owner adds " + location.origin + " to the allowed origins."
          : ""),
    );
    emit("error", { code: x.code, message: x.message });
  }
  /* The launcher appears once the server has said the site may show it (or the network, not
     the site, is what failed), so a site that may not embed it never flashes one. */
  function reveal() {
    if (!dead && !host.isConnected) (D.body || D.documentElement).append(host);
  }
  async function start() {
    const g = ++gen;
    clearTimeout(retryT);
    if (!navigator.onLine) {
      reveal();
      return null;
    }
    try {
      const s = await api("POST", "/session", {
        workspace: ws,
        visitor_token: token || undefined,
        user: user || undefined,
      });
      if (g !== gen) return s;
      sess = s;
      token = s.visitor_token;
      save("token", token);
      reveal();
      if (notice.textContent === t("busy")) note("");
      if (s.visitor.contact_id !== contactId) {
        // Another person (logged in or out on the host site): start from their state, and
        // hear nothing more of the previous one's conversation.
        drop();
        if (contactId) {
          hideImages();
          imgs.clear();
          local.clear();
          list.textContent = "";
          byKey.clear();
          lastAgent = readSent = null;
          setUnread(0);
        }
        contactId = s.visitor.contact_id;
        rules = newRules();
        stale = true;
      }
      if (s.conversation_id !== convId) {
        convId = s.conversation_id; // the hello subscribes to it; the fetch follows its ack
        stale = true;
      }
      header();
      connect(s);
      if (!stale) flush(); // else once the conversation is fetched
      sendAttributes();
      return s;
    } catch (x) {
      if (g !== gen) return null;
      if (x.code === "identity_invalid" || (user && x.status === 422)) {
        // A wrong hash, or a user the API refuses (an email that is no address, say): the
        // visitor stays (or becomes) anonymous, and the page hears why.
        user = null;
        emit("error", { code: x.code, message: x.message });
        return sess ? null : start();
      }
      if (x.status === 403 || x.status === 404 || x.status === 422) fatal(x);
      else if (x.status === 429) {
        // Too many new visitors from this network or for this site: say so, and try again
        // when the server says there is room.
        reveal();
        note(t("busy"));
        clearTimeout(retryT);
        retryT = setTimeout(start, Math.max(5000, x.wait || 0));
      } else retry();
      return null;
    }
  }
  function retry() {
    reveal();
    if (dead || !navigator.onLine) return;
    clearTimeout(retryT);
    retryT = setTimeout(start, Math.min(30000, 500 * 2 ** tries++) * (0.5 + Math.random() / 2));
  }
  function drop() {
    const s = sock;
    sock = null;
    live = false;
    header();
    clearInterval(pingT);
    if (s) s.close(1000);
  }
  function tx(frame) {
    if (sock && sock.readyState === 1) sock.send(JSON.stringify(frame));
  }
  function subscribe() {
    if (!convId || topics.has(convId) || !sock || sock.readyState !== 1) return;
    topics.add(convId);
    tx({ type: "subscribe", topic: "ticket:" + convId });
  }
  function connect(s) {
    drop();
    const url = base.replace(/^http/, "ws") + s.socket_path + "?token=";
    const so = (sock = new WebSocket(url + encodeURIComponent(s.socket_token)));
    so.onopen = () => {
      topics = new Set(convId ? [convId] : []);
      tx(rules.hello({ topics: [...topics].map((t) => "ticket:" + t) }));
      pingT = setInterval(() => tx({ type: "ping" }), 25000);
    };
    so.onmessage = (e) => sock === so && receive(JSON.parse(e.data)); // not a closed one's
    so.onclose = () => {
      if (sock !== so) return;
      sock = null;
      live = false;
      header();
      clearInterval(pingT);
      // No hello was acknowledged (a network that blocks WebSockets, say): show the thread
      // anyway. Fetching first and then saying hello {since: its seq} is as consistent.
      if (stale) fetchSubscribed();
      retry();
    };
  }
  function onEvent(e) {
    const d = e.data || {};
    if (e.type === "message.created" && d.message) {
      add(d.message, 1);
      if (d.message.direction === "out" && e.actor && e.actor.kind === "agent") {
        seenUpTo(d.message.id);
      }
      markRead();
    } else if (e.type === "message.read" && d.by === "contact" && (!lastAgent || d.up_to >= lastAgent)) {
      setUnread(0); // read in another tab up to the latest reply (an older read clears nothing)
    }
    else if (e.type === "message.read" && d.by === "agent") seenUpTo(d.up_to);
  }
  function receive(f) {
    rules.receive(f); // acks, events (to onEvent: in order, once) and resync
    if (f.type === "ack" && f.for === "hello") {
      tries = 0;
      live = true;
      header();
      if (stale) fetchSubscribed();
    } else if (f.type === "ack" && f.for === "subscribe") {
      // Events of a conversation that began after hello: replay what came before the
      // subscription took effect (the duplicates are dropped).
      rules.resume();
    } else if (f.type === "signal" && f.signal.type === "typing") {
      const d = f.signal.data || {};
      typingOff();
      if (d.on) {
        typing.textContent = t("typing", d.name || t("support"));
        typing.hidden = false;
        typingT = setTimeout(typingOff, (d.expires_in || 6) * 1000);
      }
    }
  }

  // Chromium keeps a socket open when the network is emulated offline; the events are what
  // a page can rely on: close it, queue what is typed, and resume from `last` when back.
  W.addEventListener("offline", () => {
    bar.hidden = false;
    header();
    clearTimeout(retryT);
    drop();
    outbox.forEach(pend);
  });
  W.addEventListener("online", () => {
    bar.hidden = true;
    header();
    tries = 0;
    if (!dead) start();
  });
  D.addEventListener("visibilitychange", () => {
    markRead();
    if (D.visibilityState === "hidden") settle("left", 1);
  });
  W.addEventListener("pagehide", () => settle("left", 1));

  /* ---- the host page's API ---- */
  const T = {
    open() {
      isOpen = true;
      panel.hidden = false;
      refreshStatus();
      launcher.setAttribute("aria-label", t("close"));
      showImages();
      scroll();
      markRead();
      box.focus();
    },
    close() {
      const inside = panel.contains(root.activeElement);
      isOpen = false;
      panel.hidden = true;
      if (inside) launcher.focus(); // not lost on the page: back where the visitor started
      back();
      settle("left");
      hideImages();
      launcher.setAttribute("aria-label", t("open"));
    },
    toggle() {
      isOpen ? T.close() : T.open();
    },
    /* {id, hash, name?, email?}: hash = HMAC-SHA256(widget secret, id) in hex, computed on the
       host's server. Resolves to the verified visitor, or null (the reason goes to onError). */
    setUser(u) {
      user = u
        ? { id: String(u.id), hash: u.hash, name: u.name || undefined, email: u.email || undefined }
        : null;
      if (!u) token = null;
      const p = booting ? boot : start();
      return p.then((s) => (s && user && s.visitor.verified ? s.visitor : null));
    },
    setAttributes(a) {
      Object.assign(attrs, a);
      return booting ? boot.then(sendAttributes) : sendAttributes();
    },
    onMessage(cb) {
      cbs.message.push(cb);
    },
    onUnread(cb) {
      cbs.unread.push(cb);
    },
    onError(cb) {
      cbs.error.push(cb);
    },
  };
  // For the protocol tests (tests/protocol/cases.json): the rules on the one object the widget
  // already puts on the page, not enumerable, so no new global and nothing in a host page's
  // listing of the API. The factory holds no state of this widget: a caller gets a fresh one.
  Object.defineProperty(T, "_sequencer", { value: sequencer });
  const queued = (W.Tandem && W.Tandem.q) || [];
  W.Tandem = T;
  const boot = Promise.resolve().then(() => {
    booting = false;
    return start();
  });
  queued.forEach(([name, ...args]) => T[name] && T[name](...args));
  outbox.forEach(pend);
  bar.hidden = navigator.onLine;
  header();
})();
