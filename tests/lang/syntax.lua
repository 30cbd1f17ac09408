--[[ syntax.lua: long comments, semicolons, hex literals, parentheses,
     strings with escapes in print ]]
license 'GPL';

local A = 0X1F; local B = (((A)))

function xdp.syntax(pkt) --[==[ inline ]==]
  local x = 0xff; local y = (nil == nil) and 1 or 2;
  print("tab\there \"q\" \65");
  return ((x) & A) + B + y -- comment
end
