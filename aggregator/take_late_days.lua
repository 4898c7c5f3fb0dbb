-- Take a site's late days for a closing round, in one step.
--
-- KEYS: the site's noted late days (a set), the late days closings took and have not
-- closed yet (a set): both in the site's slot, so that on a Redis Cluster the call
-- runs on the site's node.
--
-- The noted days join the taken ones and are no longer noted: a batch that notes a day
-- after this (its events may come after the round read the day) notes it anew, for the
-- next round. Returns every taken day; the round removes those it closed.
local noted, taken = KEYS[1], KEYS[2]
redis.call('SUNIONSTORE', taken, taken, noted)
redis.call('DEL', noted)
return redis.call('SMEMBERS', taken)
