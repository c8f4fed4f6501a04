package locale

import (
	"fmt"
	"time"
)

// Spanish is the tag of Latin-American Spanish.
const Spanish = "es"

func init() { Register(spanish) }

// spanish is plain Latin-American Spanish, speaking to the resident as tú
// (the pages are for someone stressed outside their own door).
//
// Terms kept the same everywhere: backup code → código de respaldo, access
// code → código de acceso, maintenance → mantenimiento, work order → orden
// de trabajo, Get Code → Obtener código, keypad → teclado, jammed →
// atascada (la cerradura), bolt → cerrojo, property → edificio.
//
// The keys of Texts are the exact English texts the templates pass to t,
// the page titles, the texts Go code passes to translate and the fixed
// error messages residents can see; the fmt verbs of a translation are
// those of its key, in the same order (locale_test.go checks both).
var spanish = &Language{
	Tag:  Spanish,
	Name: "Español",
	Texts: map[string]string{
		// layout.html: the page frame, the footer and the app's bottom bar.
		"Skip to content": "Ir al contenido",
		"Locked out and stuck? Call your property's office or maintenance team.": "¿Te quedaste afuera y no puedes entrar? Llama a la oficina o al equipo de mantenimiento de tu edificio.",
		"Resident sign-in": "Acceso para residentes",
		"App":              "Aplicación",
		"Home":             "Inicio",
		"Access":           "Acceso",
		"More":             "Más",

		// svg.html: the pictures' titles and the maintenance phone line.
		"A keypad with 1, 3, 5, 7 and 9 flashing red in the shape of an X": "Un teclado con el 1, 3, 5, 7 y 9 parpadeando en rojo en forma de X",
		"A door keypad": "El teclado de una puerta",
		"Push or pull the door firmly toward the frame while you enter the code": "Empuja o jala la puerta con firmeza hacia el marco mientras ingresas el código",
		"A phone receiving a text message with a link":                           "Un teléfono que recibe un mensaje de texto con un enlace",
		"Jiggle the door gently back and forth while you enter the code":         "Mueve la puerta suavemente hacia adelante y hacia atrás mientras ingresas el código",
		"A battery running low":                                       "Una batería casi descargada",
		"A keypad resting for a minute, with a timer":                 "Un teclado en pausa por un minuto, con un temporizador",
		"The hub has lost its connection, but the keypad still works": "El hub perdió la conexión, pero el teclado sigue funcionando",
		"Still stuck? Call %s maintenance:":                           "¿Sigues sin poder entrar? Llama a mantenimiento de %s:",
		"Still stuck? Call maintenance:":                              "¿Sigues sin poder entrar? Llama a mantenimiento:",

		// partials.html: skip the wizard; maintenance has been told.
		"Skip this and send me a code":                   "Saltar esto y enviarme un código",
		"Maintenance has been told":                      "Ya le avisamos a mantenimiento",
		"We opened work order #%d for your %s, unit %s.": "Abrimos la orden de trabajo #%d (%s, unidad %s).",
		"Maintenance already has work order #%d open for your %s, unit %s; we added your report to it.":                                                                     "Mantenimiento ya tenía abierta la orden de trabajo #%d (%s, unidad %s); le agregamos tu reporte.",
		"Someone is already working on it. You'll get a text and an email when it's fixed.":                                                                                 "Alguien ya está trabajando en ello. Te enviaremos un mensaje de texto y un correo cuando quede arreglado.",
		"You'll get a text and an email when someone is working on it and when it's fixed.":                                                                                 "Te enviaremos un mensaje de texto y un correo cuando alguien esté trabajando en ello y cuando quede arreglado.",
		"Meanwhile: if the keypad flashes 1 3 5 7 9 in an X, push or pull the door toward the frame while you enter your code. Once the bolt moves, your codes work again.": "Mientras tanto: si el teclado parpadea 1 3 5 7 9 en forma de X, empuja o jala la puerta hacia el marco mientras ingresas tu código. En cuanto el cerrojo se mueva, tus códigos vuelven a funcionar.",

		// home.html
		"Keypad door locks for your home, and a way back in when something goes wrong.": "Cerraduras con teclado para tu hogar, y una forma de volver a entrar cuando algo sale mal.",
		"I'm locked out":        "Me quedé afuera",
		"Send me a backup code": "Envíame un código de respaldo",
		"Sign in to my home":    "Iniciar sesión en mi hogar",

		// wizard.html: I'm locked out.
		"We'll get you back in. What do you see at the door?": "Vamos a ayudarte a entrar. ¿Qué ves en la puerta?",
		"The keypad flashes 1 3 5 7 9 in an X":                "El teclado parpadea 1 3 5 7 9 en forma de X",
		"with an unusual beep":                                "con un pitido raro",
		"My code doesn't work":                                "Mi código no funciona",
		"The app doesn't unlock":                              "La app no abre la puerta",

		// wizard_jammed.html
		"Your lock is jammed":                "Tu cerradura está atascada",
		"Your %s reported a jam %s.":         "La cerradura %s reportó un atasco %s",
		"Your lock jammed a short while ago": "Tu cerradura se atascó hace poco",
		"Your %s jammed %s and was freed %s; if the keypad shows the X again, the bolt is stuck again.":                         "La cerradura %s se atascó %s y se liberó %s; si el teclado vuelve a mostrar la X, el cerrojo está atascado otra vez.",
		"The X of 1 3 5 7 9 means the bolt can't move. It's the door, not your code: no code will work until the bolt is free.": "La X de 1 3 5 7 9 significa que el cerrojo no se puede mover. Es la puerta, no tu código: ningún código funcionará hasta que el cerrojo quede libre.",
		"Push or pull the door": "Empuja o jala la puerta",
		"firmly toward the frame, so the bolt lines up with its hole, and enter your code while you hold it.": "con firmeza hacia el marco, para que el cerrojo quede alineado con su orificio, e ingresa tu código mientras la sostienes.",
		"Jiggle the door":                                              "Mueve la puerta",
		"gently while you enter the code again.":                       "suavemente hacia adelante y hacia atrás mientras vuelves a ingresar el código.",
		"Once the bolt moves, every code works again, yours included.": "En cuanto el cerrojo se mueva, todos los códigos vuelven a funcionar, incluido el tuyo.",
		"It worked":   "Funcionó",
		"Still stuck": "Sigo sin poder entrar",

		// wizard_code.html
		"Your code or the app doesn't work": "Tu código o la app no funcionan",
		"Your keypad is resting after too many wrong codes. It works again %s: wait until then, then enter your code slowly.": "Tu teclado está en pausa por demasiados códigos incorrectos. Vuelve a funcionar %s: espera hasta entonces y luego ingresa tu código despacio.",
		"The app can't reach your %s right now, but the keypad still works: a backup code is already stored on the lock.":     "La app no puede conectarse ahora con la cerradura %s, pero el teclado sigue funcionando: ya hay un código de respaldo guardado en la cerradura.",
		"A few quick checks:":      "Unas revisiones rápidas:",
		"Keypad dark or very dim?": "¿El teclado está apagado o se ve muy tenue?",
		"The battery may be flat. A backup code won't help either; call your property's office.":                 "Puede que la batería esté agotada. Un código de respaldo tampoco servirá; llama a la oficina de tu edificio.",
		"Keypad ignores you after several tries?":                                                                "¿El teclado no responde después de varios intentos?",
		"After 5 wrong codes it turns off for a minute. Wait 60 seconds, then enter the code slowly.":            "Después de 5 códigos incorrectos se apaga por un minuto. Espera 60 segundos y luego ingresa el código despacio.",
		"App says the lock is offline?":                                                                          "¿La app dice que la cerradura está sin conexión?",
		"The hub can't reach the lock, but the keypad still works: a backup code is already stored on the lock.": "El hub no puede conectarse con la cerradura, pero el teclado sigue funcionando: ya hay un código de respaldo guardado en la cerradura.",
		"Show my backup code": "Mostrar mi código de respaldo",

		// wizard_cleared.html
		"You're in": "Ya estás adentro",
		"Good. Doors that swell or shrink with the weather jam again: if it keeps happening, tell your property's maintenance team so they can adjust the frame or strike.": "¡Qué bien! Las puertas que se hinchan o se encogen con el clima vuelven a atascarse: si te sigue pasando, avísale al equipo de mantenimiento de tu edificio para que ajusten el marco o la placa del cerrojo.",
		"Done": "Listo",

		// wizard_stuck.html
		"Tell maintenance": "Avísale a mantenimiento",
		"A door that won't open needs your property's on-site maintenance team: they can adjust the frame, the strike or the weatherstripping.": "Una puerta que no abre necesita al equipo de mantenimiento de tu edificio: pueden ajustar el marco, la placa del cerrojo o el burlete.",
		"Tell them the keypad flashes an X of 1 3 5 7 9: they'll know the lock is jammed.":                                                      "Diles que el teclado parpadea una X de 1 3 5 7 9: así sabrán que la cerradura está atascada.",
		"Call or text your property's office or maintenance team.":                                                                              "Llama o envía un mensaje de texto a la oficina o al equipo de mantenimiento de tu edificio.",
		"Signed in to the app, or holding a backup code link? You can notify maintenance from there and get updates.":                           "¿Iniciaste sesión en la app o tienes un enlace de código de respaldo? Desde ahí puedes avisar a mantenimiento y recibir novedades.",
		"A backup code won't help while the bolt is jammed, but you can still ask for one for later.":                                           "Un código de respaldo no servirá mientras el cerrojo esté atascado, pero igual puedes pedir uno para después.",
		"Notify maintenance":                    "Avisar a mantenimiento",
		"Anything they should know? (optional)": "¿Algo que deban saber? (opcional)",

		// getcode.html and getcode_sent.html: Get Code.
		"Send me a code": "Envíame un código",
		"Enter the email address or phone number on your account. We'll text and email a link to your backup code.": "Ingresa el correo electrónico o el número de teléfono de tu cuenta. Te enviaremos por mensaje de texto y por correo un enlace a tu código de respaldo.",
		"Email or phone number":      "Correo electrónico o número de teléfono",
		"Get Code":                   "Obtener código",
		"Check your phone and email": "Revisa tu teléfono y tu correo",
		"If that matches an account, we just sent a link by text message to the phone on the account and by email to its email address.": "Si coincide con una cuenta, acabamos de enviar un enlace por mensaje de texto al teléfono de la cuenta y por correo a su dirección de correo electrónico.",
		"Open the link and tap": "Abre el enlace y toca",
		"Show my code":          "Mostrar mi código",
		"The link works for 30 minutes after your request. After that, ask again.":                 "El enlace sirve durante 30 minutos después de tu solicitud. Después de eso, pide otro.",
		"Asked more than once? Use the newest message: each request replaces the links before it.": "¿Lo pediste más de una vez? Usa el mensaje más reciente: cada solicitud reemplaza los enlaces anteriores.",
		"Nothing after a few minutes? Check spam, or ask again.":                                   "¿No te llegó nada en unos minutos? Revisa la carpeta de spam o vuelve a pedirlo.",
		"Ask again": "Pedir de nuevo",

		// link.html and reveal.html: the backup link.
		"Your backup code": "Tu código de respaldo",
		"Hi %s. Tap the button when you're at the door.":                                 "Hola, %s. Toca el botón cuando estés frente a la puerta.",
		"This link expires in %s.":                                                       "Este enlace vence en %s.",
		"Keypad flashes 1 3 5 7 9 in an X? The door is jammed and no code will open it.": "¿El teclado parpadea 1 3 5 7 9 en forma de X? La puerta está atascada y ningún código la abrirá.",
		"Try the steps": "Sigue los pasos",
		"Enter the digits on the keypad, then press the lock button.":                                                                 "Marca los dígitos en el teclado y luego presiona el botón del candado.",
		"This code is being put back on the lock (it lost its codes). If it does not open the door yet, wait a minute and try again.": "Estamos volviendo a cargar este código en la cerradura (perdió sus códigos). Si todavía no abre la puerta, espera un minuto e inténtalo de nuevo.",
		"This backup code has already opened the door once, so it no longer works. If that was you, you're all set.":                  "Este código de respaldo ya abrió la puerta una vez, así que ya no funciona. Si fuiste tú, todo está en orden.",
		"Send me a new code": "Envíame un código nuevo",
		"No backup code is ready for this door right now.":      "En este momento no hay ningún código de respaldo listo para esta puerta.",
		"A backup code works once, for 24 hours at most.":       "Un código de respaldo funciona una sola vez, durante 24 horas como máximo.",
		"Keypad flashes 1 3 5 7 9 in an X? The lock is jammed:": "¿El teclado parpadea 1 3 5 7 9 en forma de X? La cerradura está atascada:",
		"see what to do":                       "mira qué hacer",
		"Door still stuck? Notify maintenance": "¿La puerta sigue atascada? Avisa a mantenimiento",

		// minutesLeft: how long a backup link has left.
		"less than a minute": "menos de un minuto",
		"1 minute":           "1 minuto",
		"%d minutes":         "%d minutos",

		// link_expired.html, link_unknown.html
		"This link has expired": "Este enlace ya venció",
		"Backup code links work for 30 minutes after the request.":                "Los enlaces de código de respaldo sirven durante 30 minutos después de la solicitud.",
		"Type your email or phone number and we will send a new link right away.": "Escribe tu correo o tu número de teléfono y te enviaremos un enlace nuevo al instante.",
		"Link not found": "Enlace no encontrado",
		"This link isn't valid. Check that you opened the whole link from the message, or ask for a new one.": "Este enlace no es válido. Revisa que hayas abierto el enlace completo del mensaje, o pide uno nuevo.",

		// report.html, report_sent.html: Notify maintenance from a backup link.
		"We'll tell your property's maintenance team your door is stuck, and let you know by text and email when someone is on it and when it's fixed.": "Le avisaremos al equipo de mantenimiento de tu edificio que tu puerta está atascada, y te escribiremos por mensaje de texto y correo cuando alguien se encargue y cuando quede arreglada.",
		"Back to my backup code": "Volver a mi código de respaldo",
		"See the steps again":    "Ver los pasos otra vez",
		"Maintenance notified":   "Aviso enviado a mantenimiento",

		// error.html, error_limited.html, not_found.html
		"Something went wrong": "Algo salió mal",
		"That didn't work on our side. Please try again in a moment.": "Algo falló de nuestro lado. Inténtalo de nuevo en un momento.",
		"Back":           "Volver",
		"Too many tries": "Demasiados intentos",
		"This network has opened backup links too often in the last minute. Wait a minute, then open your link again.": "Desde esta red se abrieron enlaces de respaldo demasiadas veces en el último minuto. Espera un minuto y vuelve a abrir tu enlace.",
		"Page not found": "Página no encontrada",
		"There's nothing here. If you're locked out, start here:": "Aquí no hay nada. Si te quedaste afuera, empieza aquí:",

		// app_signin.html, app_code.html, app_link.html, app_expired.html:
		// signing in to the resident app.
		"Sign in": "Iniciar sesión",
		"No password needed: we'll text and email you a code.": "No necesitas contraseña: te enviamos un código por mensaje de texto y por correo.",
		"Send me a sign-in code":                               "Envíame un código para iniciar sesión",
		"Locked out right now?":                                "¿Te quedaste afuera ahora mismo?",
		"Get help without signing in":                          "Obtén ayuda sin iniciar sesión",
		"Enter your code":                                      "Ingresa tu código",
		"If that matches an account, we sent a 6-digit code by text to its phone and by email. It works for 15 minutes.": "Si coincide con una cuenta, enviamos un código de 6 dígitos por mensaje de texto a su teléfono y por correo electrónico. Sirve durante 15 minutos.",
		"Sign-in code": "Código para iniciar sesión",
		"You can also tap the link in the message.": "También puedes tocar el enlace del mensaje.",
		"Send a new code": "Enviar un código nuevo",
		"Tap the button to sign in on this device.": "Toca el botón para iniciar sesión en este dispositivo.",
		"Please try again":                          "Inténtalo de nuevo",
		"This page was open too long or came from somewhere else. Go back, reload the page and try again.": "Esta página estuvo abierta demasiado tiempo o vino de otro sitio. Regresa, vuelve a cargar la página e inténtalo de nuevo.",

		// app_home.html: my doors.
		"Hi %s":              "Hola, %s",
		"Unlocked.":          "Listo, está abierta.",
		"Locked.":            "Listo, está cerrada.",
		"Unit %s, %s":        "Unidad %s, %s",
		"Your %s is jammed.": "%s: la cerradura está atascada.",
		"No code or button will move the bolt until the door is realigned.": "Ningún código ni botón moverá el cerrojo hasta que la puerta vuelva a quedar alineada.",
		"What to do":          "Qué hacer",
		"Your %s is offline.": "%s: la cerradura está sin conexión.",
		"The app can't reach it, but the keypad and your codes still work.": "La app no puede conectarse con ella, pero el teclado y tus códigos siguen funcionando.",
		"Battery low (%d%%).": "Batería baja (%d%%).",
		"Tell the office so they can replace it before it runs out.": "Avísale a la oficina para que la cambien antes de que se agote.",
		"Jammed":                               "Atascada",
		"Offline":                              "Sin conexión",
		"Locked":                               "Cerrada",
		"Unlocked":                             "Abierta",
		"State unknown":                        "Estado desconocido",
		"Battery %d%%":                         "Batería %d%%",
		"last heard %s":                        "última señal: %s",
		"Lock":                                 "Cerrar",
		"Unlock":                               "Abrir",
		"No lock is set up for your unit yet.": "Todavía no hay ninguna cerradura configurada para tu unidad.",

		// app_access.html: my access code and its use.
		"My access code": "Mi código de acceso",
		"This code is on its way to the lock; it may take a minute.": "Este código va en camino a la cerradura; puede tardar un minuto.",
		"Hidden": "Oculto",
		"You have no access code yet. The office adds one when you move in.": "Todavía no tienes código de acceso. La oficina te asigna uno cuando te mudas.",
		"When my codes were used": "Cuándo se usaron mis códigos",
		"No use yet.":             "Todavía no se han usado.",
		// resident.Use.How
		"access code": "código de acceso",
		"backup code": "código de respaldo",

		// app_more.html, app_report.html
		"Support": "Ayuda",
		"Step by step back inside, or a backup code.": "Paso a paso para volver a entrar, o un código de respaldo.",
		"A door that jams or won't open.":             "Una puerta que se atasca o no abre.",
		"Language":                                    "Idioma",
		"Sign out":                                    "Cerrar sesión",
		"Which door?":                                 "¿Qué puerta?",

		// Errors the pages' forms show (web).
		"The form could not be read. Please try again.":                  "No pudimos leer el formulario. Inténtalo de nuevo.",
		"Enter one email address or phone number.":                       "Ingresa un solo correo electrónico o número de teléfono.",
		"This form expired. Please try again.":                           "Este formulario venció. Inténtalo de nuevo.",
		"Too many tries from your network. Wait a minute and try again.": "Demasiados intentos desde tu red. Espera un minuto e inténtalo de nuevo.",

		// Errors of the services residents use, as sparekey.ErrorMessage
		// gives them (contact, lockout, resident, upkeep.Report).
		"Internal error.": "Error interno.",
		"Enter the email address or phone number on your account.":                                                       "Ingresa el correo electrónico o el número de teléfono de tu cuenta.",
		"That is too long for an email address or a phone number. Enter the one on your account.":                        "Es demasiado largo para un correo electrónico o un número de teléfono. Ingresa el de tu cuenta.",
		"That is neither an email address nor a phone number. Enter the one on your account.":                            "Eso no es un correo electrónico ni un número de teléfono. Ingresa el de tu cuenta.",
		"That email address doesn't look right. Check it and try again.":                                                 "Ese correo electrónico no parece correcto. Revísalo e inténtalo de nuevo.",
		"That phone number doesn't look right. Include the area code, like (201) 555-0101, or enter your email instead.": "Ese número de teléfono no parece correcto. Incluye el código de área, como (201) 555-0101, o ingresa tu correo electrónico.",
		"Too many requests from your network. Wait a minute and try again.":                                              "Demasiadas solicitudes desde tu red. Espera un minuto e inténtalo de nuevo.",
		"This link is not valid. Ask for a new backup code.":                                                             "Este enlace no es válido. Pide un nuevo código de respaldo.",
		"This link has expired. Backup code links last 30 minutes; ask for a new one.":                                   "Este enlace ya venció. Los enlaces de código de respaldo duran 30 minutos; pide uno nuevo.",
		"A newer link was sent: use the most recent message. Each new request replaces the links before it.":             "Te enviamos un enlace más nuevo: usa el mensaje más reciente. Cada nueva solicitud reemplaza los enlaces anteriores.",
		"This link has expired. Ask for a new backup code.":                                                              "Este enlace ya venció. Pide un nuevo código de respaldo.",
		"That code is not right. Check the latest text or email and try again.":                                          "Ese código no es correcto. Revisa el mensaje de texto o el correo más reciente e inténtalo de nuevo.",
		"This sign-in has expired or was already used. Ask for a new code.":                                              "Este inicio de sesión ya venció o ya se usó. Pide un código nuevo.",
		"Too many wrong codes. Ask for a new one.":                                                                       "Demasiados códigos incorrectos. Pide uno nuevo.",
		"Sign in to continue.":           "Inicia sesión para continuar.",
		"That door is not one of yours.": "Esa puerta no es una de las tuyas.",
		"This account has moved out.":    "Esta cuenta ya no está activa: el residente se mudó.",
		"No such lock on your unit.":     "Esa cerradura no está en tu unidad.",
		// upkeep.Report's one formatted message, as residents see it.
		"The note is too long: keep it under 2000 characters.": "La nota es demasiado larga: escribe menos de 2000 caracteres.",
		// Lock and unlock errors in the app (operateErrors).
		"The app can't reach your door right now. Your code and backup codes still work on the keypad.":                                                      "La app no puede comunicarse con tu puerta en este momento. Tu código y los códigos de respaldo siguen funcionando en el teclado.",
		"Your door is jammed: no button or code can move the bolt. Push or pull the door toward the frame while you enter your code, or notify maintenance.": "Tu puerta está atascada: ningún botón ni código puede mover el cerrojo. Empuja o jala la puerta hacia el marco mientras marcas tu código, o avisa a mantenimiento.",
		"The lock didn't answer in time. Try again in a moment.":                                                                                             "La cerradura no respondió a tiempo. Inténtalo de nuevo en un momento.",
		"The lock refused the command. Try again in a moment.":                                                                                               "La cerradura rechazó la orden. Inténtalo de nuevo en un momento.",
	},
	Messages: spanishMessages,
	Clock:    spanishClock,
	At:       func(t time.Time) string { return "a " + article(t) + " " + spanishClock(t) },
	When: func(t time.Time) string {
		return fmt.Sprintf("%d %s, %s", t.Day(), shortMonths[t.Month()-1], spanishClock(t))
	},
	Funcs: map[string]any{"article": article, "date": date},
}

// spanishMessages are the emails and SMS in Spanish. The SMS keep to the
// GSM 7-bit alphabet (no accents, but ¿ is in it): one letter outside it
// would send the whole text as UCS-2, 70 characters a segment.
var spanishMessages = map[string]string{
	"backup_link.sms":     `{{.Short}}: tu codigo de respaldo (30 min): {{.Link}} ¿No lo pediste? Ignoralo.`,
	"backup_link.subject": `El enlace a tu código de respaldo`,
	"backup_link.text": `Hola, {{.Name}}:

Pediste un código de respaldo para tu puerta{{if .Unit}} (unidad {{.Unit}}{{if .Property}}, {{.Property}}{{end}}){{end}}. Abre este enlace y toca "Mostrar mi código":

{{.Link}}

El enlace funciona hasta {{article .Expires}} {{clock .Expires}} {{zone .Expires}}, 30 minutos después de tu solicitud. Después, pide uno nuevo en {{.NewRequest}}

Un código de respaldo funciona una sola vez, durante 24 horas como máximo.

Si el teclado parpadea 1 3 5 7 9 en forma de X, la cerradura está atascada y ningún código la abrirá hasta que el cerrojo quede libre: empuja o jala la puerta hacia el marco mientras ingresas el código.{{if .Phone}} ¿Sigues sin poder entrar? Llama a mantenimiento al {{.Phone}}.{{end}}

¿No lo pediste? Ignora este correo; nada cambia en tu cuenta.

Sparekey{{if .Property}} para {{.Property}}{{end}}
`,
	"backup_link.html": `<!doctype html>
<html lang="es"><body style="font-family:system-ui,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a">
<p>Hola, {{.Name}}:</p>
<p>Pediste un código de respaldo para tu puerta{{if .Unit}} (unidad {{.Unit}}{{if .Property}}, {{.Property}}{{end}}){{end}}. Abre el enlace y toca <strong>Mostrar mi código</strong>.</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:12px 20px;background:#0b5cad;color:#fff;border-radius:8px;text-decoration:none">Abrir mi código de respaldo</a></p>
<p>O copia este enlace: {{.Link}}</p>
<p>El enlace funciona hasta <strong>{{article .Expires}} {{clock .Expires}} {{zone .Expires}}</strong>, 30 minutos después de tu solicitud. Después, <a href="{{.NewRequest}}">pide uno nuevo</a>.</p>
<p>Un código de respaldo funciona una sola vez, durante 24 horas como máximo.</p>
<p>Si el teclado parpadea 1 3 5 7 9 en forma de X, la cerradura está atascada y ningún código la abrirá hasta que el cerrojo quede libre: empuja o jala la puerta hacia el marco mientras ingresas el código.{{if .Phone}} ¿Sigues sin poder entrar? Llama a mantenimiento al {{.Phone}}.{{end}}</p>
<p style="color:#555">¿No lo pediste? Ignora este correo; nada cambia en tu cuenta.</p>
<p>Sparekey{{if .Property}} para {{.Property}}{{end}}</p>
</body></html>
`,

	"code_revealed.subject": `Se mostró tu código de respaldo`,
	"code_revealed.text": `Hola, {{.Name}}:

Tu código de respaldo se acaba de mostrar en un dispositivo ({{date .When}}, {{clock .When}} {{zone .When}}).

Si fuiste tú, no tienes que hacer nada. Si no, {{if .Phone}}llama a mantenimiento al {{.Phone}}{{else}}avísale a la oficina de tu edificio{{end}} de inmediato: el código abre tu puerta hasta que se use una vez, durante 24 horas como máximo.

Sparekey{{if .Property}} para {{.Property}}{{end}}
`,

	"sign_in.sms":     `Codigo para iniciar sesion en Sparekey: {{.Code}} (vale {{.Minutes}} min). O abre {{.Link}} ¿No lo pediste? Ignoralo.`,
	"sign_in.subject": `Tu código para iniciar sesión en Sparekey: {{.Code}}`,
	"sign_in.text": `Hola, {{.Name}}:

Tu código para iniciar sesión en Sparekey es {{.Code}}. Escríbelo en la página de inicio de sesión o abre este enlace en tu teléfono:

{{.Link}}

Cada uno funciona una sola vez, durante {{.Minutes}} minutos.

¿No lo pediste? Ignora este correo; nada cambia en tu cuenta.

Sparekey
`,

	"access_code_revealed.subject": `Se mostró tu código de acceso en la app`,
	"access_code_revealed.text": `Hola, {{.Name}}:

Tu código de acceso se acaba de mostrar en la app de Sparekey.

Si fuiste tú, no tienes que hacer nada. Si no, cierra la sesión de la app en tus dispositivos y avísale de inmediato a la oficina de {{.Property}}.

Sparekey
`,

	"welcome.subject": `Te damos la bienvenida a {{.Property}}: tu código de la puerta`,
	"welcome.text": `Hola, {{.Name}}:

Te damos la bienvenida a la unidad {{.Unit}} de {{.Property}}. Tu propio código de acceso se está guardando ahora en el teclado de tu puerta ({{.Lock}}).

Para verlo, abre {{.Base}}/app en tu teléfono e inicia sesión con este correo o con tu número de teléfono: no necesitas contraseña, te enviamos un código. Tu código de acceso está en Acceso.

¿Algún día te quedas afuera? Abre {{.Base}}/support/locked-out (o en la app: Más, luego Me quedé afuera). Te ayuda con una cerradura atascada y puede enviar un código de respaldo a tu teléfono y a este correo.

Sparekey para {{.Property}}
`,

	"work_order.door":                     `{{.Lock}}, unidad {{.Unit}}`,
	"work_order_received.subject":         `Mantenimiento recibió tu reporte`,
	"work_order_received.update":          `Le avisamos al equipo de mantenimiento de {{.Property}} que tu puerta ({{template "work_order.door" .}}) está atascada. Orden de trabajo #{{.ID}}. Te avisaremos cuando alguien esté trabajando en ella y cuando quede arreglada.`,
	"work_order_received_working.subject": `Mantenimiento recibió tu reporte`,
	"work_order_received_working.update":  `Le avisamos al equipo de mantenimiento de {{.Property}} que tu puerta ({{template "work_order.door" .}}) está atascada. Alguien ya está trabajando en ella, orden de trabajo #{{.ID}}. Te avisaremos cuando quede arreglada.`,
	"work_order_in_progress.subject":      `Mantenimiento ya trabaja en tu puerta`,
	"work_order_in_progress.update":       `Mantenimiento ya trabaja en tu puerta ({{template "work_order.door" .}}), orden de trabajo #{{.ID}}.`,
	"work_order_resolved.subject":         `Tu puerta quedó arreglada`,
	"work_order_resolved.update":          `Orden de trabajo #{{.ID}} resuelta para tu puerta ({{template "work_order.door" .}}): {{.Resolution}}`,
	"work_order.still_jammed":             `Pero la cerradura aún reporta un atasco: si el teclado parpadea 1 3 5 7 9 en forma de X, vuelve a avisarle a mantenimiento.`,
	"work_order.still_jammed.sms":         `Pero la cerradura aun reporta un atasco: si el teclado parpadea 1 3 5 7 9 en X, vuelve a avisarle a mantenimiento.`,
	"work_order.email": `Hola, {{.Name}}:

{{.Update}}

Si el teclado parpadea 1 3 5 7 9 en forma de X, la cerradura está atascada: empuja o jala la puerta hacia el marco mientras ingresas tu código.

Sparekey para {{.Property}}
`,
}

// spanishClock is a time of day as Spanish writes it: "3:04 p. m.".
func spanishClock(t time.Time) string {
	if t.Hour() < 12 {
		return t.Format("3:04") + " a. m."
	}
	return t.Format("3:04") + " p. m."
}

// article is the hour's article: "la 1:04", "las 3:04". The abbreviation's
// period ends a sentence too, so Spanish texts put no period after a time.
func article(t time.Time) string {
	if t.Hour()%12 == 1 {
		return "la"
	}
	return "las"
}

var (
	shortMonths = [...]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"}
	months      = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
)

// date is a day as a Spanish letter writes it: "2 de enero".
func date(t time.Time) string {
	return fmt.Sprintf("%d de %s", t.Day(), months[t.Month()-1])
}
