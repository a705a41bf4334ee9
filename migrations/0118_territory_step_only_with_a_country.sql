-- Assignment's territory step only when the lead has a country or ship-to region (issue 23,
-- target 5; docs/queues.md#assignment).
--
-- `leadrouter_assign_owner` ran its member query twice for every new item: once for step 2
-- (territory: members whose territories overlap the lead's codes) and once for step 3 (the
-- strategy). A lead with neither a country nor a ship-to region has no codes, and
-- `territories && '{}'` holds for nobody, so step 2's query found no member — one statement
-- under the team's round-robin lock, for every anonymous pricing request, that could only answer
-- nothing. The step is now left out when there are no codes: the same members considered, in the
-- same order, with the same answers.
SELECT leadrouter_replace_in_function('leadrouter_assign_owner',
    $q$    FOREACH pool_step IN ARRAY ARRAY['territory', 'strategy'] LOOP$q$,
    $q$    FOREACH pool_step IN ARRAY CASE WHEN codes = '{}' THEN ARRAY['strategy'] ELSE ARRAY['territory', 'strategy'] END LOOP$q$);
