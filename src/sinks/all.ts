// Every output kind registers itself on import (`-o KIND:TARGET`); heavy client libraries load only when used.
import './file-output.js';
import './nats-output.js';
import './syslog-output.js';
import './webhook-output.js';
