//! What the dev server adds to pages while serving (never to the built site on disk): a
//! live-reload script, a note that installing needs the HTTPS site, and the build error overlay.

use super::Snapshot;
use crate::notes::escape_attr;

pub(super) fn inject(page: &[u8], snapshot: &Snapshot) -> Vec<u8> {
    let mut extra = String::new();
    if snapshot.local_base {
        extra.push_str(
            "<div style=\"position:fixed;bottom:0;left:0;right:0;z-index:9999;padding:.4rem .8rem;\
             background:#333;color:#fff;font:13px/1.4 -apple-system,sans-serif\">otasite preview: \
             install links point at this local address; installing on a device needs the HTTPS \
             site (or an HTTPS tunnel to this port, passed with <code>-u</code>).</div>",
        );
    }
    if let Some(error) = &snapshot.error {
        let (title, text) = if snapshot.built {
            (
                "The last edit does not build",
                "The site below is the last good build; this message goes away at the next good \
                 save.",
            )
        } else {
            (
                "The site does not build yet",
                "There is no good build to show: fix what the error says and save; this page \
                 reloads by itself.",
            )
        };
        extra.push_str(&format!(
            "<div style=\"position:fixed;inset:0;z-index:10000;overflow:auto;padding:2rem;\
             background:rgba(40,0,0,.94);color:#fff;font:14px/1.5 ui-monospace,monospace\">\
             <h2 style=\"margin-top:0\">{title}</h2><p>{text}</p><pre \
             style=\"white-space:pre-wrap\">{}</pre></div>",
            escape_attr(error)
        ));
    }
    extra.push_str(&format!(
        "<script>(function(){{var g={};function poll(){{fetch('/__otasite/poll?since='+g,{{cache:'no-store'}})\
         .then(function(r){{return r.text()}}).then(function(t){{if(t!==String(g)){{location.reload()}}else{{poll()}}}})\
         .catch(function(){{setTimeout(poll,1000)}})}}poll()}})();</script>",
        snapshot.generation
    ));
    let text = String::from_utf8_lossy(page);
    let at = text.rfind("</body>").unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + extra.len());
    out.push_str(&text[..at]);
    out.push_str(&extra);
    out.push_str(&text[at..]);
    out.into_bytes()
}
