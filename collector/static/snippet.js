/* footfall tracker */
(()=>{try{
let w=window,D=document,N=navigator,L=location,E=D.documentElement,S=D.currentScript,U,
at=k=>S.getAttribute('data-'+k),now=Date.now,
vs=()=>D.visibilityState=='visible',on=(t,e,f)=>t.addEventListener(e,f),
H=at('hash')!=null?1:U,a=at('article')||U,d=at('domain')||L.hostname,api=at('api')||new URL(S.src).origin+'/api/event',
cnt=new URL(api,L).origin+'/api/counters',
ex=RegExp('^('+(at('exclude')||'').replace(/\W/g,c=>c==','?'|':c=='*'?'.*':c>' '?'\\'+c:'')+')$'),
dnt=N.doNotTrack=='1'||w.doNotTrack=='1',
K=()=>L.pathname+(H?L.hash:''),
pv,pu,off,pk,sd,ls,ms,vt=vs()&&now(),
id=()=>{let r=new Uint8Array(8);try{crypto.getRandomValues(r)}catch(e){r=r.map(()=>Math.random()*256)}return r.reduce((s,b)=>s+(b|256).toString(16).slice(1),'')},
send=(n,x,b)=>{if(!off)try{x=JSON.stringify(Object.assign({n,u:L.href,d,pv,a,h:H},x));
if(!(b&&N.sendBeacon&&N.sendBeacon(api,x)))return fetch(api,{method:'POST',body:x,keepalive:!0}).catch(e=>0)}catch(e){}return Promise.resolve()},
sc=()=>{let h=Math.min(100,(w.scrollY+w.innerHeight)/E.scrollHeight*100+.5|0);if(h>sd)sd=h},
eng=b=>{sc();if(vt){let t=now();ms+=t-vt;vt=t}let e=ms;if(e||sd!=ls){ms=0;ls=sd;send('engagement',{u:pu,e,sd},b)}},
hide=()=>{eng(1);vt=0},
fill=()=>{try{if(D.readyState=='loading')return on(D,'DOMContentLoaded',fill);
let q=D.querySelectorAll('[data-footfall]'),A=a||q[0]&&q[0].getAttribute('data-article');
q[0]&&fetch(cnt+'?d='+encodeURIComponent(d)+(A?'&a='+encodeURIComponent(A):D.querySelector('[data-footfall=views],[data-footfall=readers]')?'&u='+encodeURIComponent(L.href):''),{credentials:'omit'})
.then(r=>r.json()).then(j=>{let f,I=Intl.NumberFormat;try{f=I(E.lang||N.language)}catch(e){f=I()}
q.forEach(e=>{let v=j[e.getAttribute('data-footfall')];if(v>=0)e.textContent=f.format(v)})}).catch(e=>0)}catch(e){}},
view=()=>{pv=id();pu=L.href;pk=K();off=dnt||ex.test(L.pathname);sd=ls=ms=0;
send('pageview',{r:D.referrer||null,w:w.innerWidth,ti:D.title}).then(fill,fill)},
nav=()=>{if(K()!=pk){eng();view()}},
ps=history.pushState,q=(w.footfall||{}).q||[];
try{dnt|=localStorage.footfall_ignore=='true'}catch(e){}
history.pushState=function(){ps.apply(this,arguments);nav()};
on(w,'popstate',nav);
if(H)on(w,'hashchange',nav);
on(w,'scroll',sc);
on(D,'visibilitychange',()=>vs()?vt=vt||now():hide());
on(w,'pagehide',hide);
setInterval(()=>vs()&&eng(),3e4);
view();
w.footfall=(n,o)=>send(n,{p:o&&o.props});
q.forEach(a=>w.footfall.apply(w,a))
}catch(e){}})();
